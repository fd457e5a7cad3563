import { parseArgs } from 'node:util';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { loadConfig } from '../src/config';
import { seedDemo } from '../src/demo/catalogue';
import { connectMongo } from '../src/storage/database';
import { createS3 } from '../src/storage/s3';
import { splitBucketPath } from '../src/storage/s3-url';

const DEFAULT_BUCKET = 'demo-data';

/** `tsx scripts/seed.ts [--count N] [--bucket B]`: loads the demo catalogue into the configured stack. */
async function main() {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '36' },
      bucket: { type: 'string', default: DEFAULT_BUCKET },
    },
  });
  const count = Number(values.count);
  if (!Number.isSafeInteger(count) || count < 1)
    throw new Error(`--count must be a positive whole number, got "${values.count}"`);
  const config = loadConfig();
  const mongo = await connectMongo(config);
  const s3 = createS3(config);
  try {
    await createBucket(s3, values.bucket);
    // Results go to ANALYSIS_BUCKET when a specification names no bucket: make it exist too.
    if (config.ANALYSIS_BUCKET) await createBucket(s3, splitBucketPath(config.ANALYSIS_BUCKET).bucket);
    const started = Date.now();
    const seeded = await seedDemo({
      db: mongo.db(config.ASSETS_DATABASE),
      s3,
      assetsCollection: config.ASSETS_COLLECTION,
      bucket: values.bucket,
      count,
    });
    console.log(
      `seeded ${seeded.assets} assets into ${config.ASSETS_DATABASE}.${config.ASSETS_COLLECTION} and ${seeded.objects} objects into s3://${values.bucket} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  } finally {
    s3.destroy();
    await mongo.close();
  }
}

async function createBucket(s3: ReturnType<typeof createS3>, bucket: string): Promise<void> {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    // Seeding again is fine: the bucket is ours already.
    if ((err as Error).name !== 'BucketAlreadyOwnedByYou') throw err;
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
