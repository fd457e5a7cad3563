import type { AnalysisRecord, CodeProvenance, Task } from './types';

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
}

/**
 * The record of a finished task. Built from the task and its run alone, so the copy uploaded as
 * `metadata.nd.json` and the one written to the database are the same document.
 */
export function buildRecord(task: Task, run: RunResult, dispatchId: string): AnalysisRecord {
  return {
    _id: task.hash,
    name: task.hash,
    location: task.location,
    analysis_name: task.analysis.analysis_name,
    analysis_version: task.analysis.analysis_version,
    parameters: task.parameters,
    input: task.input,
    outputs: run.outputs,
    code: run.code,
    libraries: task.libraries,
    dispatch_id: dispatchId,
    worker_host: run.worker_host,
    files: run.files,
    started_at: run.started_at,
    finished_at: run.finished_at,
  };
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
