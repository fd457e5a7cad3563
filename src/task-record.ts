import type { MachineFacts, SoftwareFacts } from './aind/metadata';
import type { CodeProvenance, InputFingerprint, RunResources } from './types';

/** What the run step hands to upload and commit. */
export interface RunResult {
  workerQueue: string;
  workDir: string;
  outputs: Record<string, unknown>;
  files: string[];
  code: CodeProvenance;
  worker_host: string;
  started_at: string;
  finished_at: string;
  /** Absent in results of runs made by earlier versions (still in flight in their histories). */
  software?: SoftwareFacts;
  machine?: MachineFacts;
  resources?: RunResources;
  /** Login name of the worker's user: the experimenter of tasks that name none. */
  worker_user?: string;
  /**
   * Set when the run step uploaded its results itself (the job asked it to): the job then skips
   * the upload step. Absent when it could not; the files wait on the worker for that step.
   */
  uploaded?: { objects: number; bytes: number };
  /**
   * Set when the run step also wrote the task's record (the job asked it to, and the upload went
   * through): the job then skips its commit step. Absent when it could not.
   */
  committed?: 'written' | 'existed';
  /**
   * What identified the task's inputs as the run started, for tasks planned without it (inputs
   * that are folders); the record keeps it. Absent when the task carried its own, or when an input
   * could not be listed.
   */
  input_fingerprints?: InputFingerprint[];
}

export const METADATA_FILE = 'metadata.nd.json';

/**
 * A task that has a record, against the code that would run it now: done, unless both commits
 * are known and differ. Without a commit on either side there is nothing to compare: the
 * analysis version stands for the code.
 */
export function recordedStatus(
  recordedCommit: string | undefined,
  currentCommit: string | undefined,
): 'done' | 'changed_code' {
  return recordedCommit && currentCommit && recordedCommit !== currentCommit ? 'changed_code' : 'done';
}
