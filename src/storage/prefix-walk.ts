import type { S3Client } from '@aws-sdk/client-s3';
import { listObjectsAfter, type ListedObjectFacts } from './s3';

/** Prefixes walked one after another by one lane; lanes run side by side. */
const PREFIXES_PER_RUN_MAX = 250;
/** Keys asked for when the walk is in a sparse stretch, and when matches fill its pages. */
export const SPARSE_PAGE = 100;
export const DENSE_PAGE = 1000;

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

export function commonPrefix(a: string, b: string): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return a.slice(0, i);
}
