import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { mapWithConcurrency } from '../concurrency';
import { ErrorType, nonRetryable } from '../errors';
import { folderPrefix, parseS3Url, type S3Address } from '../storage/s3-url';

/** An input names one object: a URL that is not `s3://bucket/key` is a mistake in the task. */
function objectAddress(url: string): S3Address {
  const address = parseS3Url(url);
  if (!address?.key) throw nonRetryable(ErrorType.InvalidInput, `Not an s3://bucket/key URL: ${url}`);
  return address;
}

async function getBody(s3: S3Client, url: string, signal?: AbortSignal) {
  const { bucket, key } = objectAddress(url);
  const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
  if (!response.Body) throw new Error(`Empty response body for ${url}`);
  return response.Body;
}

/** One whole object in memory: for the small inputs TypeScript analyses read. */
export async function readObject(s3: S3Client, url: string, signal?: AbortSignal): Promise<Buffer> {
  const body = await getBody(s3, url, signal);
  return Buffer.from(await body.transformToByteArray());
}

/** A key segment that cannot climb out of the input folder or hide as a dotfile path trick. */
function safeSegment(segment: string): string {
  return segment === '' || segment === '.' || segment === '..' ? '_' : segment;
}

/**
 * Local relative paths for the input URLs: the shortest common number of trailing key segments
 * that keeps every path distinct (`licks.json`, or `asset-1/behavior/licks.json` when two assets
 * each have one), so programs see familiar names without collisions.
 */
export function localInputPaths(urls: string[]): string[] {
  const segments = urls.map((url) => {
    const { bucket, key } = objectAddress(url);
    // A folder input (`x.nwb.zarr/`) lands where the folder's name says, its slash aside.
    return [bucket, ...key.replace(/\/+$/, '').split('/')].map(safeSegment);
  });
  const longest = Math.max(0, ...segments.map((parts) => parts.length));
  for (let depth = 1; depth <= longest; depth++) {
    const paths = segments.map((parts) => parts.slice(-depth).join('/'));
    if (new Set(paths).size === paths.length) return paths;
  }
  return segments.map((parts) => parts.join('/'));
}

export interface LocalInput {
  s3_url: string;
  /** Relative to the input folder, posix separators. */
  path: string;
}

/** Objects of a folder input fetched at once: a zarr store is thousands of small chunks. */
const FOLDER_CONCURRENCY = 8;

/**
 * Streams each input to disk, so large inputs never sit in worker memory. An input is an object,
 * or a folder (a zarr store found by `--file_extension`, or a listed path ending in `/`): a URL
 * without a trailing slash that names no object is fetched as the folder of that name, whole.
 */
export async function downloadInputs(
  s3: S3Client,
  urls: string[],
  inputDir: string,
  signal?: AbortSignal,
): Promise<LocalInput[]> {
  const unique = [...new Set(urls)];
  const paths = localInputPaths(unique);
  const inputs: LocalInput[] = [];
  for (const [index, url] of unique.entries()) {
    const path = paths[index] as string;
    const target = join(inputDir, ...path.split('/'));
    const address = objectAddress(url);
    if (address.key.endsWith('/')) await downloadFolder(s3, address, target, url, signal);
    else {
      try {
        await downloadObject(s3, address, target, signal);
      } catch (err) {
        if ((err as Error).name !== 'NoSuchKey') throw err;
        if ((await downloadFolder(s3, address, target, url, signal, false)) === 0) throw err;
      }
    }
    inputs.push({ s3_url: url, path });
  }
  return inputs;
}

/**
 * One object to `target`. `made` holds the folders this download already created: a zarr store's
 * thousands of chunks share a few folders, and each creation asked again is a trip to the disk.
 */
async function downloadObject(
  s3: S3Client,
  address: S3Address,
  target: string,
  signal?: AbortSignal,
  made = new Set<string>(),
) {
  const response = await s3.send(new GetObjectCommand({ Bucket: address.bucket, Key: address.key }), {
    abortSignal: signal,
  });
  const body = response.Body;
  if (!body) throw new Error(`Empty response body for s3://${address.bucket}/${address.key}`);
  const folder = dirname(target);
  if (!made.has(folder)) {
    await mkdir(folder, { recursive: true });
    made.add(folder);
  }
  if (body instanceof Readable) await pipeline(body, createWriteStream(target), { signal });
  else await writeFile(target, await body.transformToByteArray());
}

/**
 * Every object under the folder into `target`, at its path inside the folder (each segment made
 * safe, so no key climbs out); folder markers (keys ending in `/`) are folders only. Answers how
 * many objects it fetched; an empty folder is an error when `required`.
 */
async function downloadFolder(
  s3: S3Client,
  address: S3Address,
  target: string,
  url: string,
  signal?: AbortSignal,
  required = true,
): Promise<number> {
  const prefix = folderPrefix(address.key);
  // The listing is read as fetches finish, so the next page is asked for while the last objects
  // of this one are still coming: no pause at every thousand keys for the page's slowest object.
  async function* keys() {
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: address.bucket, Prefix: prefix, ContinuationToken: token }),
        { abortSignal: signal },
      );
      for (const item of page.Contents ?? []) if (item.Key && !item.Key.endsWith('/')) yield item.Key;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
  let fetched = 0;
  const made = new Set<string>();
  await mapWithConcurrency(keys(), FOLDER_CONCURRENCY, async (key) => {
    await downloadObject(
      s3,
      { bucket: address.bucket, key },
      join(target, ...key.slice(prefix.length).split('/').map(safeSegment)),
      signal,
      made,
    );
    fetched++;
  });
  if (fetched === 0 && required) throw new Error(`No objects under the input folder ${url}`);
  return fetched;
}
