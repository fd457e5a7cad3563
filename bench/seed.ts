import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Collection } from 'mongodb';
import { mapWithConcurrency } from '../src/concurrency';

const BATCH = 5_000;

/** `count` asset records of one set (`set` selects them), inserted in large unordered batches. */
export async function seedAssetRecords(
  assets: Collection,
  options: { set: string; count: number; bucket: string },
): Promise<void> {
  for (let start = 0; start < options.count; start += BATCH) {
    const docs = Array.from({ length: Math.min(BATCH, options.count - start) }, (_, offset) => {
      const name = `${options.set}_${String(start + offset).padStart(6, '0')}`;
      return {
        _id: name as never,
        name,
        set: options.set,
        location: `s3://${options.bucket}/${options.set}/${name}`,
        subject: { subject_id: String(700000 + ((start + offset) % 50)) },
        data_description: { project_name: (start + offset) % 2 ? 'Behavior' : 'Ephys' },
        created: new Date(Date.UTC(2024, 0, 1) + (start + offset) * 60_000),
      };
    });
    await assets.insertMany(docs, { ordered: false });
  }
}

/** Puts `keys` objects in parallel, each a few bytes. */
export async function seedObjects(
  s3: S3Client,
  bucket: string,
  keys: string[],
  concurrency = 64,
): Promise<void> {
  await mapWithConcurrency(keys, concurrency, (key) =>
    s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `${key}\n` })),
  );
}
