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
 */
export function identityHash(task: Omit<Task, 'hash' | 'location' | 'group'>): string {
  const identity = {
    analysis_name: task.analysis.analysis_name,
    analysis_version: task.analysis.analysis_version,
    libraries: task.libraries,
    parameters: task.parameters,
    s3_location: task.input.s3_location,
    file_location: task.input.file_location,
    output_bucket: task.analysis.s3_output_bucket,
  };
  return createHash('sha256').update(canonicalJson(identity)).digest('hex');
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
  const hash = identityHash(task);
  if (task.hash !== hash)
    throw nonRetryable(
      ErrorType.TaskIdentityMismatch,
      `task ${String(task.hash)}: its fields give the identity ${hash}; refused, nothing written or removed`,
    );
  const location = s3Url(bucket, hash);
  if (typeof task.location !== 'string' || folderPrefix(task.location) !== folderPrefix(location))
    throw nonRetryable(
      ErrorType.TaskIdentityMismatch,
      `task ${hash}: its location ${JSON.stringify(task.location)} is not ${location}; refused, nothing written or removed`,
    );
}
