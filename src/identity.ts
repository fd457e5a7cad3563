import { createHash } from 'node:crypto';
import { ErrorType, nonRetryable } from './errors';
import { BUCKET_PATH, folderPrefix, s3Url } from './storage/s3-url';
import type { Task } from './types';

/** JSON with object keys sorted at every depth, so key order never changes a hash. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value as Record<string, unknown>)
        .sort()
        .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
        .map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

/**
 * A task's identity: what was computed, on what, with what, and where it goes. Code provenance
 * is deliberately absent: the analysis version stands for the code.
 *
 * The `--group_by` values join it only when given, and planning gives them only to a group
 * whose input an earlier group of the same plan also reads (an asset unwound into two groups):
 * such a task was planned as a duplicate before and has no record, while every other task,
 * grouped or not, keeps the hash it always had and so its record.
 */
export function identityHash(
  task: Omit<Task, 'hash' | 'location' | 'group'>,
  group?: Record<string, unknown>,
): string {
  const identity = {
    analysis_name: task.analysis.analysis_name,
    analysis_version: task.analysis.analysis_version,
    libraries: task.libraries,
    parameters: task.parameters,
    s3_location: task.input.s3_location,
    file_location: task.input.file_location,
    output_bucket: task.analysis.s3_output_bucket,
    ...(group && Object.keys(group).length > 0 ? { group_metadata: group } : {}),
  };
  return createHash('sha256').update(canonicalJson(identity)).digest('hex');
}

/** The hashes a planned task may rightly carry: its identity's, and for a group, with its values. */
export function taskIdentityHashes(task: Omit<Task, 'hash' | 'location'>): string[] {
  const hash = identityHash(task);
  const grouped = task.group ? identityHash(task, task.group) : hash;
  return grouped === hash ? [hash] : [hash, grouped];
}

/**
 * Refuses a task whose hash or location is not what its own fields give: a worker writes to and
 * removes from the location of a task, and a plan is read from a database that every user of the
 * CLI can write, so the task is checked against itself before anything is written or removed.
 */
export function checkTaskIdentity(task: Task): void {
  const bucket = task.analysis?.s3_output_bucket;
  if (typeof bucket !== 'string' || !BUCKET_PATH.test(bucket))
    throw nonRetryable(
      ErrorType.TaskIdentityMismatch,
      `task ${String(task.hash)}: s3_output_bucket ${JSON.stringify(bucket)} is not a bucket name with an optional prefix; refused`,
    );
  const hashes = taskIdentityHashes(task);
  const hash = hashes.find((candidate) => candidate === task.hash);
  if (hash === undefined)
    throw nonRetryable(
      ErrorType.TaskIdentityMismatch,
      `task ${String(task.hash)}: its fields give the identity ${hashes.join(' or ')}; refused, nothing written or removed`,
    );
  const location = s3Url(bucket, hash);
  if (typeof task.location !== 'string' || folderPrefix(task.location) !== folderPrefix(location))
    throw nonRetryable(
      ErrorType.TaskIdentityMismatch,
      `task ${hash}: its location ${JSON.stringify(task.location)} is not ${location}; refused, nothing written or removed`,
    );
}
