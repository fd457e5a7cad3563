import { createWriteStream } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { resolveInside } from '../../path-containment';
import { mapWithConcurrency } from '../../concurrency';
import { listObjects } from '../../storage/s3';
import { folderPrefix, parseS3Url } from '../../storage/s3-url';
import type { StoredRecord } from '../../types';

const PARALLEL_FILES = 4;

export interface Downloaded {
  hash: string;
  dir: string;
  files: number;
  refused: string[];
}

/** Fetches every object under a record's `location` into `dir/<hash>/`, keeping relative paths. */
export async function downloadRecord(s3: S3Client, record: StoredRecord, dir: string): Promise<Downloaded> {
  const root = resolveInside(dir, record._id);
  if (!root) throw new Error(`record id ${JSON.stringify(record._id)} is not usable as a folder name`);
  const address = parseS3Url(record.location);
  if (!address) throw new Error(`record ${record._id}: location ${record.location} is not an s3:// URL`);
  const { bucket } = address;
  const prefix = folderPrefix(address.key);
  const result: Downloaded = { hash: record._id, dir: root, files: 0, refused: [] };
  // Transfers start while the listing goes on: nothing waits for every key to be listed.
  await mapWithConcurrency(listObjects(s3, bucket, prefix), PARALLEL_FILES, async ({ key }) => {
    const target = resolveInside(root, key.slice(prefix.length));
    if (!target) {
      result.refused.push(key);
      return;
    }
    await mkdir(dirname(target), { recursive: true });
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    // Written beside the target and renamed, so an interrupted download leaves no truncated file.
    const partial = `${target}.part`;
    await pipeline(object.Body as Readable, createWriteStream(partial));
    await rename(partial, target);
    result.files++;
  });
  return result;
}
