import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { mapWithConcurrency } from '../pool';
import { listObjectFacts, type ListedObjectFacts } from '../storage/s3';
import { folderPrefix, parseS3Url } from '../storage/s3-url';
import type { InputFingerprint, Task } from '../types';

/** An object's ETag and size as the discovery listing saw it, by `s3://` URL. */
export type ObjectFacts = Map<string, { etag?: string; size: number }>;

/** The inputs of a task as its record names them: its files, or (without files) its assets' prefixes. */
export function inputUrls(task: Task): string[] {
  return task.input.file_location.length > 0 ? task.input.file_location : task.input.s3_location;
}

/**
 * A folder's fingerprint from its listing: the sha256 of one line per object (key relative to the
 * folder, ETag, size) in S3's order, so any object added, removed or rewritten changes it.
 */
export function folderFingerprint(
  url: string,
  prefix: string,
  objects: ListedObjectFacts[],
): InputFingerprint {
  const hash = createHash('sha256');
  let size = 0;
  for (const object of objects) {
    hash.update(`${object.key.slice(prefix.length)}\t${object.etag ?? ''}\t${object.size}\n`);
    size += object.size;
  }
  return { url, size, objects: objects.length, digest: hash.digest('hex') };
}

/** Lists the folder at `url` (every page) and fingerprints it; an absent folder has zero objects. */
export async function listFolderFingerprint(s3: S3Client, url: string): Promise<InputFingerprint> {
  const address = parseS3Url(url);
  if (!address) throw new Error(`input ${url} is not an s3:// URL`);
  const prefix = folderPrefix(address.key);
  const objects: ListedObjectFacts[] = [];
  for await (const object of listObjectFacts(s3, address.bucket, prefix)) objects.push(object);
  return folderFingerprint(url, prefix, objects);
}

/**
 * Sets `input_fingerprints` on the tasks that have none: files from what discovery listed, folders
 * (asset prefixes, zarr stores) by listing them, each URL once, `concurrency` listings at a time.
 * Returns how many folders it listed.
 */
export async function fingerprintTasks(
  s3: S3Client,
  tasks: Task[],
  files: ObjectFacts,
  concurrency = 32,
  onListed: () => void = () => undefined,
): Promise<number> {
  const pending = tasks.filter((task) => task.input_fingerprints === undefined);
  const folders = new Set<string>();
  for (const task of pending) for (const url of inputUrls(task)) if (!files.has(url)) folders.add(url);
  const listed = new Map<string, InputFingerprint>();
  await mapWithConcurrency([...folders], concurrency, async (url) => {
    listed.set(url, await listFolderFingerprint(s3, url));
    onListed();
  });
  for (const task of pending) {
    task.input_fingerprints = inputUrls(task).map((url) => {
      const file = files.get(url);
      if (file) return { url, size: file.size, ...(file.etag ? { etag: file.etag } : {}) };
      return listed.get(url)!;
    });
  }
  return folders.size;
}
