import { createHash } from 'node:crypto';
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
