import type { Duration } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { PROGRESS_QUERY } from './message-names';
import type { DispatchRequest, DispatchSettings, PlanSummary } from '../types';

/** A job's input; those of earlier versions also carry the dispatch id as `planId`, unread. */
export interface JobInput {
  dispatchId: string;
  /** The dispatch's workflow id (no run id), so the report reaches whichever run is current. */
  dispatchWorkflowId: string;
  jobIndex: number;
  jobsPerPage: number;
  dryRun: boolean;
  force: boolean;
  /** Tasks in the job, known to the dispatch before the job has read them. */
  taskCount: number;
  /**
   * `result`: a job that runs to its end reports by its result alone, which the dispatch reads;
   * only a job that fails or is cancelled also signals. Absent (dispatches of earlier versions):
   * every job signals its report.
   */
  reportBy?: 'result';
}

export interface TaskFailure {
  hash: string;
  asset_name: string;
  error: string;
}

export interface DryRunOutput {
  hash: string;
  outputs: Record<string, unknown>;
}

/** What became of the tasks of a job, or of all the jobs of a dispatch. */
export interface TaskCounts {
  succeeded: number;
  skipped: number;
  changed_code: number;
  failed: number;
  cancelled: number;
}

/** A job's counts for its dispatch, in the dispatch's own shape. */
export interface JobReport {
  job_index: number;
  counts: TaskCounts;
  /** First failures of the job only, so that no message grows with the job. */
  failures: TaskFailure[];
  dry_run_outputs: DryRunOutput[];
}

export type DispatchPhase =
  | 'planning'
  | 'running'
  | 'draining'
  | 'cancelling'
  | 'completed'
  | 'completed_with_failures'
  | 'failed'
  | 'cancelled';

export interface DispatchCounts extends TaskCounts {
  jobs_finished: number;
}

/**
 * Everything a dispatch knows, from its first line: what its handlers read and what a run carries
 * into the next by continue-as-new. Bounded in size: no list grows with the dispatch.
 */
export interface DispatchState {
  phase: DispatchPhase;
  /** Absent until the dispatch has planned. */
  plan?: PlanSummary;
  settings: DispatchSettings;
  analysis_names: string[];
  /** The dispatch whose undone tasks this one reruns. */
  retry_of?: string;
  paused: boolean;
  /** Set once failures passed the tolerance: no new jobs start. */
  stop_reason?: string;
  next_job: number;
  /** Jobs started and not reported yet: their workflow ids by job index. */
  running: Record<number, string>;
  counts: DispatchCounts;
  failures: TaskFailure[];
  dry_run_outputs: DryRunOutput[];
  started_at: number;
  runs: number;
}

/** The state of a dispatch that has planned. */
export type PlannedState = DispatchState & { plan: PlanSummary };

interface DispatchRun {
  /** Empty when started by a schedule: the workflow id then gives it (see dispatch.ts). */
  dispatchId: string;
  /** Jobs started per run before continuing as new; small values exercise it in tests. */
  continue_as_new_after?: number;
  /** How often the dispatch looks for jobs that closed without reporting; short in tests. */
  check_jobs_every?: Duration;
  /**
   * The id its notification address is saved under (storage/notify-targets.ts), never the address
   * itself: that holds a token, and inputs are readable in the history.
   */
  notify?: string;
}

/** The ways a dispatch run begins. */
export type DispatchInput =
  /**
   * Plans the request saved in the database under `request_id` (see storage/request-store.ts),
   * then runs it: a request may hold 100,000 asset ids, which must not travel through Temporal.
   */
  | (DispatchRun & {
      kind: 'stored';
      request_id: string;
      settings: DispatchSettings;
      analysis_names: string[];
    })
  /** Plans the request it carries, then runs it: how earlier versions started every dispatch. */
  | (DispatchRun & { kind: 'new'; request: DispatchRequest })
  /** Replans what another dispatch left undone, over that one's stored plan, then runs it. */
  | (DispatchRun & {
      kind: 'retry';
      retry_of: string;
      settings: DispatchSettings;
      analysis_names: string[];
    })
  /** Goes on where the previous run stopped (continue-as-new). */
  | (DispatchRun & { kind: 'continued'; state: DispatchState });

/** What the progress query answers: the run state, flattened for readers, without the job list. */
export interface DispatchProgress {
  dispatch_id: string;
  phase: DispatchPhase;
  plan?: PlanSummary;
  settings: DispatchSettings;
  analysis_names: string[];
  paused: boolean;
  retry_of?: string;
  running: number;
  jobs_started: number;
  counts: DispatchCounts;
  /** Tasks that will not run any more: succeeded, skipped, failed or cancelled in this dispatch. */
  tasks_finished: number;
  failures: TaskFailure[];
  started_at: number;
  runs: number;
  error?: string;
}

export interface DispatchResult extends DispatchProgress {
  dry_run_outputs: DryRunOutput[];
}

/** A job's report before it took the dispatch's shape (legacy-input.ts reads it). */
export interface EarlierJobReport {
  jobIndex: number;
  succeeded: number;
  skipped: number;
  changedCode: number;
  failed: number;
  cancelled: number;
  failures: TaskFailure[];
  dryRunOutputs: DryRunOutput[];
}

/** Jobs of earlier versions, still running or in a history, report in their own shape. */
export const jobFinishedSignal = defineSignal<[JobReport | EarlierJobReport]>('jobFinished');
export const progressQuery = defineQuery<DispatchProgress>(PROGRESS_QUERY);
/** Changes `num_parallel_workers` of a running dispatch; answers the old and new value. */
export const resizeUpdate = defineUpdate<{ previous: number; current: number }, [number]>('resize');
/** Stops (true) or resumes (false) the start of new jobs; running jobs go on. */
export const pauseUpdate = defineUpdate<{ paused: boolean; running: number }, [boolean]>('pause');
