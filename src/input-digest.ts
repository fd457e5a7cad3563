import { createHash } from 'node:crypto';
import { canonicalJson } from './identity';
import type { InputFingerprint, Task } from './types';

/**
 * One hash of all of a task's fingerprints, kept in its record beside them: planning reads every
 * record of the analyses involved, and this compares what a task's inputs were with a few bytes
 * per record where the list would cost a line per input file. Absent without fingerprints.
 */
export function inputDigest(fingerprints: InputFingerprint[] | undefined): string | undefined {
  if (!fingerprints?.length) return undefined;
  return createHash('sha256').update(canonicalJson(fingerprints)).digest('hex');
}

/**
 * Whether a task's inputs differ from those its record was made from, by their digests. A record
 * without one (made before they were kept) counts as unchanged: there is nothing to compare.
 */
export function inputsChanged(recordedDigest: string | undefined, task: Task): boolean {
  const current = inputDigest(task.input_fingerprints);
  return recordedDigest !== undefined && current !== undefined && recordedDigest !== current;
}

/** One input whose fingerprint now differs from the record's. */
export interface ChangedInput {
  url: string;
  recorded: InputFingerprint;
  current: InputFingerprint;
}

/**
 * The inputs that changed since a record was made. A record without fingerprints (made before
 * they were kept), or an input it has none for, counts as unchanged: there is nothing to compare.
 */
export function changedInputs(
  recorded: InputFingerprint[] | undefined,
  current: InputFingerprint[] | undefined,
): ChangedInput[] {
  if (!recorded?.length || !current?.length) return [];
  const byUrl = new Map(recorded.map((fingerprint) => [fingerprint.url, fingerprint]));
  const changed: ChangedInput[] = [];
  for (const now of current) {
    const then = byUrl.get(now.url);
    if (then && !sameContent(then, now)) changed.push({ url: now.url, recorded: then, current: now });
  }
  return changed;
}

function sameContent(a: InputFingerprint, b: InputFingerprint): boolean {
  return a.size === b.size && a.etag === b.etag && a.digest === b.digest && a.objects === b.objects;
}
