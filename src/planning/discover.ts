import type { S3Client } from '@aws-sdk/client-s3';
import { InputError } from '../errors';
import { mapWithConcurrency } from '../concurrency';
import type { ObjectFacts } from './fingerprint';
import { listingRuns, walkPrefixes } from '../storage/prefix-walk';
import { folderPrefix, parseAssetLocation, s3Url } from '../storage/s3-url';

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
