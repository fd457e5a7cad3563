import { createHash } from 'node:crypto';
import type { MachineFacts, SoftwareFacts } from './aind/metadata';
import type { CodeProvenance, InputFingerprint, RunResources } from './types';

/**
 * What stands for a run's result files in the steps' inputs and results: their count and the
 * sha256 of their list, a fixed size however many files an analysis writes (a zarr store has
 * thousands). The list itself stays in the run's folder on its worker until the upload, then in
 * the uploaded copy of the record and in the record.
 */
export interface ResultFiles {
  count: number;
  sha256: string;
}

/**
 * What the run step hands to upload and commit: facts of a bounded size, because they travel in
 * the job's history (as the run step's result and in the inputs of the steps after it).
 */
export interface RunResult {
  workerQueue: string;
  workDir: string;
  outputs: Record<string, unknown>;
  result_files: ResultFiles;
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

/**
 * A run result as earlier versions returned it, with the list of its files in place of their
 * count: jobs in flight still hand it to the upload and commit steps. The list is taken as the
 * run's claim and checked as one read from the run's folder is (resultFilesOf, checkedFileList).
 */
export type EarlierRunResult = Omit<RunResult, 'result_files'> & { files: string[] };

/** What the upload and commit steps accept: a run result of this version or of an earlier one. */
export type AnyRunResult = RunResult | EarlierRunResult;

/** The facts of a list of result files: its length and the sha256 of its JSON. */
export function resultFilesOf(files: readonly string[]): ResultFiles {
  return { count: files.length, sha256: createHash('sha256').update(JSON.stringify(files)).digest('hex') };
}

/** The facts of a run's result files, whichever version returned the run. */
export function runResultFiles(run: AnyRunResult): ResultFiles {
  return 'result_files' in run ? run.result_files : resultFilesOf(run.files);
}

/**
 * A list of result files as the listing of a results folder gives it, or undefined: strings,
 * relative posix paths without empty, `.` or `..` segments, each once. Anything else did not
 * come from a listing, and names no object this project would upload.
 */
export function checkedFileList(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const seen = new Set<string>();
  for (const file of value) {
    if (typeof file !== 'string' || seen.has(file) || file.includes('\0')) return undefined;
    if (file.split('/').some((part) => part === '' || part === '.' || part === '..')) return undefined;
    seen.add(file);
  }
  return value as string[];
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
