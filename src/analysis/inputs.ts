import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ErrorType, nonRetryable } from '../errors';
import { parseS3Url, type S3Address } from '../storage/s3-url';

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
    return [bucket, ...key.split('/')].map(safeSegment);
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

/** Streams each object to disk, so large inputs never sit in worker memory. */
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
    await mkdir(dirname(target), { recursive: true });
    const body = await getBody(s3, url, signal);
    if (body instanceof Readable) await pipeline(body, createWriteStream(target), { signal });
    else await writeFile(target, await body.transformToByteArray());
    inputs.push({ s3_url: url, path });
  }
  return inputs;
}
