import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { mapWithConcurrency } from '../concurrency';
import { listObjectsAfter, type ListedObjectFacts } from '../storage/s3';
import { listingRuns, walkPrefixes } from '../storage/prefix-walk';
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

/** Why a bucket could not be listed, when retrying will not help; undefined otherwise. */
function unlistable(err: unknown): string | undefined {
  const name = (err as Error).name;
  return name === 'NoSuchBucket' || name === 'AccessDenied' ? name : undefined;
}

/**
 * Fingerprints of the folders at `urls`, by listing. Folders side by side in a bucket share
 * listings as discovery's do (see discoverFiles): a page of up to 1,000 keys serves every small
 * folder in it, and a folder of many objects costs a page per 1,000. A folder that is absent has
 * zero objects. Folders in a bucket that cannot be listed (absent, or access denied) get no
 * fingerprint; `warn` names the bucket once.
 */
export async function listFolderFingerprints(
  s3: S3Client,
  urls: string[],
  concurrency = 32,
  onListed: () => void = () => undefined,
  warn: (message: string) => void = () => undefined,
): Promise<Map<string, InputFingerprint>> {
  const urlsOf = new Map<string, string[]>();
  const byBucket = new Map<string, Set<string>>();
  for (const url of urls) {
    const address = parseS3Url(url);
    if (!address) throw new Error(`input ${url} is not an s3:// URL`);
    const prefix = folderPrefix(address.key);
    const id = `${address.bucket}\0${prefix}`;
    urlsOf.set(id, [...(urlsOf.get(id) ?? []), url]);
    byBucket.set(address.bucket, (byBucket.get(address.bucket) ?? new Set()).add(prefix));
  }
  const fingerprints = new Map<string, InputFingerprint>();
  const refused = new Map<string, string>();
  await mapWithConcurrency(listingRuns(byBucket, concurrency), concurrency, async (run) => {
    if (refused.has(run.bucket)) return;
    let found: Map<string, ListedObjectFacts[]>;
    try {
      found = await walkFolders(s3, run.bucket, run.prefixes, onListed);
    } catch (err) {
      const why = unlistable(err);
      if (!why) throw err;
      refused.set(run.bucket, why);
      return;
    }
    for (const [prefix, objects] of found)
      for (const url of urlsOf.get(`${run.bucket}\0${prefix}`) ?? [])
        fingerprints.set(url, folderFingerprint(url, prefix, objects));
  });
  for (const [bucket, why] of refused)
    warn(
      `bucket ${bucket} cannot be listed (${why}): its inputs have no fingerprint, so changes to them go unnoticed`,
    );
  return fingerprints;
}

/** Every object under each of the sorted, non-nested `prefixes` of one bucket, walked as discovery walks them. */
async function walkFolders(
  s3: S3Client,
  bucket: string,
  prefixes: string[],
  onListed: () => void,
): Promise<Map<string, ListedObjectFacts[]>> {
  const found = new Map<string, ListedObjectFacts[]>(prefixes.map((prefix) => [prefix, []]));
  await walkPrefixes(s3, bucket, prefixes, onListed, (prefix, object) => {
    found.get(prefix)!.push(object);
    return undefined;
  });
  return found;
}

/**
 * Sets `input_fingerprints` on the tasks that have none and whose inputs are all files discovery
 * listed: free, their ETags and sizes came with that listing. Other tasks are left without; their
 * run fingerprints them (fingerprintAtRun), so a plan of many new whole-asset tasks lists nothing.
 */
export function fingerprintListedFiles(tasks: Task[], files: ObjectFacts): void {
  for (const task of tasks) {
    if (task.input_fingerprints !== undefined) continue;
    const fingerprints = inputUrls(task).map((url) => fileFingerprint(url, files.get(url)));
    if (fingerprints.every((fingerprint) => fingerprint !== undefined))
      task.input_fingerprints = fingerprints;
  }
}

function fileFingerprint(
  url: string,
  file: { etag?: string; size: number } | undefined,
): InputFingerprint | undefined {
  return file && { url, size: file.size, ...(file.etag ? { etag: file.etag } : {}) };
}

/**
 * What identifies a task's inputs as its run starts, by listing: a file input from the first key
 * at its name (one request), a folder input (an asset prefix, a zarr store) from the listing of its
 * objects. Undefined when an input's bucket cannot be listed: the record then keeps none.
 */
export async function fingerprintAtRun(s3: S3Client, task: Task): Promise<InputFingerprint[] | undefined> {
  const urls = inputUrls(task);
  const files: ObjectFacts = new Map();
  // Without discovered files the inputs are the assets' prefixes: folders, nothing to look up.
  if (task.input.file_location.length > 0) {
    await mapWithConcurrency(urls, 8, async (url) => {
      const address = parseS3Url(url);
      if (!address) return;
      const { objects } = await listObjectsAfter(s3, {
        bucket: address.bucket,
        prefix: address.key,
        startAfter: '',
        maxKeys: 1,
      });
      const first = objects[0];
      if (first?.key === address.key)
        files.set(url, { size: first.size, ...(first.etag ? { etag: first.etag } : {}) });
    });
  }
  const folders = await listFolderFingerprints(
    s3,
    urls.filter((url) => !files.has(url)),
    8,
  );
  const fingerprints = urls.map((url) => fileFingerprint(url, files.get(url)) ?? folders.get(url));
  return fingerprints.every((fingerprint) => fingerprint !== undefined) ? fingerprints : undefined;
}

/**
 * Sets `input_fingerprints` on the tasks that have none: files from what discovery listed, folders
 * (asset prefixes, zarr stores) by listing them (listFolderFingerprints). A task one of whose
 * inputs has no fingerprint gets none: it then counts as unchanged rather than changed by a gap.
 * Returns how many folders it listed.
 */
export async function fingerprintTasks(
  s3: S3Client,
  tasks: Task[],
  files: ObjectFacts,
  options: {
    concurrency?: number;
    onListed?: () => void;
    warn?: (message: string) => void;
  } = {},
): Promise<number> {
  const pending = tasks.filter((task) => task.input_fingerprints === undefined);
  const folders = new Set<string>();
  for (const task of pending) for (const url of inputUrls(task)) if (!files.has(url)) folders.add(url);
  const listed = await listFolderFingerprints(
    s3,
    [...folders],
    options.concurrency,
    options.onListed,
    options.warn,
  );
  for (const task of pending) {
    const fingerprints = inputUrls(task).map(
      (url) => fileFingerprint(url, files.get(url)) ?? listed.get(url),
    );
    if (fingerprints.every((fingerprint) => fingerprint !== undefined))
      task.input_fingerprints = fingerprints;
  }
  return listed.size;
}
