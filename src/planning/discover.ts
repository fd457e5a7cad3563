import type { S3Client } from '@aws-sdk/client-s3';
import { InputError } from '../errors';
import { mapWithConcurrency } from '../pool';
import type { ObjectFacts } from './fingerprint';
import { listObjectsAfter, type ListedObjectFacts } from '../storage/s3';
import { folderPrefix, parseAssetLocation, s3Url } from '../storage/s3-url';

/** Prefixes walked one after another by one lane; lanes run side by side. */
const PREFIXES_PER_RUN_MAX = 250;
/** Keys asked for when the walk is in a sparse stretch, and when matches fill its pages. */
export const SPARSE_PAGE = 100;
export const DENSE_PAGE = 1000;

/**
 * Inputs under each `s3://bucket/prefix` location whose name ends with `extension`, at any depth,
 * as sorted `s3://` URLs: files, and folders as the upstream glob finds them (see inputKey).
 *
 * S3 lists keys in byte order, and the keys under one prefix are one contiguous stretch of that
 * order. So, rather than one listing per asset (the original dispatcher listed them one after
 * another; 10,000 assets cost 10,000 requests however few files each holds), the sorted prefixes
 * of a bucket are split into runs, and each run is walked with one listing that starts at its first
 * prefix and jumps (StartAfter) over stretches that belong to no selected asset. Assets that sit
 * side by side in the bucket then share pages of up to 1,000 keys; scattered assets cost about one
 * request each, as before. Runs are listed side by side.
 *
 * `facts`, when given, receives the ETag and size of every file input found (the listing holds
 * them already); folder inputs are not in it, their chunks being jumped over.
 */
export async function discoverFiles(
  s3: S3Client,
  locations: string[],
  extension: string,
  concurrency = 32,
  onListed: () => void = () => undefined,
  facts?: ObjectFacts,
): Promise<Map<string, string[]>> {
  const unique = [...new Set(locations)];
  // Listing prefix ("key/") of each location, grouped by bucket.
  const prefixOf = new Map<string, { bucket: string; prefix: string }>();
  const byBucket = new Map<string, Set<string>>();
  for (const location of unique) {
    const parsed = parseAssetLocation(location);
    if (!parsed) throw new InputError(`asset location ${location} is not s3://bucket/prefix`);
    const prefix = folderPrefix(parsed.prefix);
    prefixOf.set(location, { bucket: parsed.bucket, prefix });
    const prefixes = byBucket.get(parsed.bucket) ?? new Set<string>();
    prefixes.add(prefix);
    byBucket.set(parsed.bucket, prefixes);
  }

  const files = new Map<string, string[]>();
  await mapWithConcurrency(listingRuns(byBucket, concurrency), concurrency, async (run) => {
    const found = await walk(s3, run.bucket, run.prefixes, extension, onListed, facts);
    for (const [prefix, keys] of found) files.set(`${run.bucket}\0${prefix}`, keys);
  });
  return new Map(
    unique.map((location) => {
      const { bucket, prefix } = prefixOf.get(location)!;
      return [location, files.get(`${bucket}\0${prefix}`) ?? []];
    }),
  );
}

/**
 * The sorted folder prefixes ("key/") of each bucket cut into runs, each to be walked by one
 * listing that jumps between them; enough runs to keep `concurrency` lanes busy.
 */
export function listingRuns(
  byBucket: Map<string, Set<string>>,
  concurrency: number,
): Array<{ bucket: string; prefixes: string[] }> {
  const runs: Array<{ bucket: string; prefixes: string[] }> = [];
  for (const [bucket, set] of byBucket) {
    const sorted = [...set].sort(byteOrder);
    // An asset inside another's prefix shares its keys: such buckets are listed prefix by prefix.
    const nested = sorted.some((prefix, i) => i > 0 && prefix.startsWith(sorted[i - 1]!));
    const size = nested
      ? 1
      : Math.min(PREFIXES_PER_RUN_MAX, Math.max(1, Math.ceil(sorted.length / (concurrency * 4))));
    for (let i = 0; i < sorted.length; i += size) runs.push({ bucket, prefixes: sorted.slice(i, i + size) });
  }
  return runs;
}

/** S3's order: UTF-8 bytes, which JavaScript's UTF-16 comparison differs from past U+FFFF. */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * Walks the keys of sorted, non-nested `prefixes` of one bucket in as few listings as the layout
 * allows, and returns each prefix's matching files as sorted URLs.
 */
async function walk(
  s3: S3Client,
  bucket: string,
  prefixes: string[],
  extension: string,
  onListed: () => void,
  facts: ObjectFacts | undefined,
): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>(prefixes.map((prefix) => [prefix, []]));
  try {
    await walkPrefixes(s3, bucket, prefixes, onListed, (prefix, object) => {
      const input = inputKey(object.key.slice(prefix.length), extension);
      if (input === undefined) return undefined;
      const urls = found.get(prefix)!;
      const url = s3Url(bucket, prefix + input.path);
      // A folder's keys come one after another; its first one already gave the input.
      if (urls[urls.length - 1] !== url) urls.push(url);
      // Inside a folder input (a zarr store of many chunks): the walk may jump past the rest of it.
      if (input.folder) return `${prefix}${input.path}/${PAST_EVERY_CHARACTER}`;
      facts?.set(url, { size: object.size, ...(object.etag ? { etag: object.etag } : {}) });
      return undefined;
    });
  } catch (err) {
    // A missing bucket will not appear on retry; anything else (throttling, network) might pass.
    if ((err as Error).name === 'NoSuchBucket')
      throw new InputError(
        `bucket ${bucket} (of asset location s3://${bucket}/${prefixes[0]}) does not exist`,
      );
    throw err;
  }
  for (const [prefix, urls] of found) found.set(prefix, [...new Set(urls)].sort());
  return found;
}

/**
 * Lists every object under each of the sorted, non-nested `prefixes` of one bucket with one
 * listing within their common prefix that jumps (StartAfter) over stretches no prefix owns, and
 * hands each to `visit` with its prefix (a folder's own marker object, the key `prefix` itself,
 * is left out). `visit` may answer a key to jump past when its object is the last of a page: the
 * rest of a folder it has seen enough of. `onListed` counts the prefixes walked.
 */
export async function walkPrefixes(
  s3: S3Client,
  bucket: string,
  prefixes: string[],
  onListed: () => void,
  visit: (prefix: string, object: ListedObjectFacts) => string | undefined,
): Promise<void> {
  // Listing within the run's common prefix stops the walk at the run's end of the bucket.
  const within = commonPrefix(prefixes[0]!, prefixes[prefixes.length - 1]!);
  let current = 0;
  // Every key of prefixes[current] sorts after prefixes[current] itself (or is that folder marker).
  let startAfter = prefixes[0]!;
  let pageSize = prefixes.length === 1 ? DENSE_PAGE : SPARSE_PAGE;
  for (;;) {
    const { objects, truncated } = await listObjectsAfter(s3, {
      bucket,
      prefix: within,
      startAfter,
      maxKeys: pageSize,
    });
    // Where `visit` would have the walk go past the page's last key.
    let jump: string | undefined;
    let matched = 0;
    for (const object of objects) {
      jump = undefined;
      // Past the current prefix's stretch: on to the prefix this key may belong to.
      while (
        current < prefixes.length &&
        !object.key.startsWith(prefixes[current]!) &&
        byteOrder(object.key, prefixes[current]!) > 0
      ) {
        current++;
        onListed();
      }
      if (current === prefixes.length) break;
      const prefix = prefixes[current]!;
      if (!object.key.startsWith(prefix)) continue; // between selected prefixes
      matched++;
      if (object.key !== prefix) jump = visit(prefix, object);
    }
    const last = objects[objects.length - 1]?.key;
    if (current === prefixes.length || !truncated || last === undefined) break;
    // In a stretch of keys no selected prefix owns: jump to the next one.
    startAfter = byteOrder(last, prefixes[current]!) < 0 ? prefixes[current]! : last;
    if (jump !== undefined && byteOrder(jump, startAfter) > 0) startAfter = jump;
    pageSize = matched * 2 >= objects.length ? DENSE_PAGE : SPARSE_PAGE;
  }
  for (; current < prefixes.length; current++) onListed();
}

/**
 * Sorts after every key that starts with a folder's `name/` and a valid character: the highest
 * code point. A key beyond it is still recognised as part of the folder, so this is only a jump.
 */
const PAST_EVERY_CHARACTER = '\u{10FFFF}';

/**
 * What a key under an asset (`relative`, without the asset's prefix) contributes, as the upstream
 * dispatcher's glob `**\/*EXT` sees it: the shallowest folder on its path whose name ends with
 * `extension` (`x.nwb.zarr/acquisition/0.0` gives the folder `x.nwb.zarr`, once, and a zarr nested
 * in it is part of it, not a second input), else the key itself when it is a file whose name ends
 * with `extension`.
 */
export function inputKey(relative: string, extension: string): { path: string; folder: boolean } | undefined {
  // Most keys of a flat layout hold no match at all: one scan decides.
  if (!relative.includes(extension)) return undefined;
  for (let slash = relative.indexOf('/'); slash !== -1; slash = relative.indexOf('/', slash + 1)) {
    const folder = relative.slice(0, slash);
    if (folder.endsWith(extension) && !folder.endsWith('/')) return { path: folder, folder: true };
  }
  // A key ending in "/" is a folder marker, never a file.
  if (!relative.endsWith('/') && relative.endsWith(extension)) return { path: relative, folder: false };
  return undefined;
}

export function commonPrefix(a: string, b: string): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return a.slice(0, i);
}
