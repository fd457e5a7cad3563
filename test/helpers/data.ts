import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { TestStack } from './stack';

export interface SeedOptions {
  count: number;
  /** Relative file paths put under every asset's prefix. */
  files?: string[];
  namePrefix?: string;
}

/** Assets `asset_000..` in the test's catalogue, each with a few small files under its prefix. */
export async function seedAssets(stack: TestStack, options: SeedOptions): Promise<string[]> {
  const names = Array.from(
    { length: options.count },
    (_, i) => `${options.namePrefix ?? 'asset'}_${String(i).padStart(4, '0')}`,
  );
  const files = options.files ?? ['data/units.csv'];
  await stack.mongo
    .db(stack.config.ASSETS_DATABASE)
    .collection(stack.config.ASSETS_COLLECTION)
    .insertMany(
      names.map((name, i) => ({
        _id: name as never,
        name,
        location: `s3://${stack.bucket}/data/${name}`,
        subject: { subject_id: String(700000 + (i % 3)) },
        data_description: { project_name: i % 2 ? 'Behavior' : 'Ephys' },
        created: new Date(Date.UTC(2024, 0, 1 + i)),
      })),
    );
  await Promise.all(
    names.flatMap((name) =>
      files.map((file) =>
        stack.s3.send(
          new PutObjectCommand({
            Bucket: stack.bucket,
            Key: `data/${name}/${file}`,
            Body: `${name}:${file}\n`,
          }),
        ),
      ),
    ),
  );
  return names;
}

/** Writes a spec file for the test and returns its path. */
export function writeSpec(dir: string, specs: unknown[], file = 'spec.json'): string {
  const path = join(dir, file);
  writeFileSync(path, JSON.stringify(specs));
  return path;
}
