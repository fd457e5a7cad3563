import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { PROGRESS_QUERY } from './message-names';
import type { DispatchRequest, DispatchSettings, PlanSummary } from '../types';

export interface JobInput {
  dispatchId: string;
  /** The dispatch's workflow id (no run id), so the report reaches whichever run is current. */
  dispatchWorkflowId: string;
  planId: string;
  jobIndex: number;
  jobsPerPage: number;
  dryRun: boolean;
  force: boolean;
  /** Tasks in the job, known to the dispatch; absent in inputs of jobs started by earlier versions. */
  taskCount?: number;
}

export interface TaskFailure {
  hash: string;
  asset_name: string;
  error: string;
}

export interface JobReport {
  jobIndex: number;
  succeeded: number;
  skipped: number;
  changedCode: number;
  failed: number;
  cancelled: number;
  /** First failures of the job only, so that no message grows with the job. */
  failures: TaskFailure[];
  dryRunOutputs: Array<{ hash: string; outputs: Record<string, unknown> }>;
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

export interface DispatchCounts {
  succeeded: number;
  skipped: number;
  changed_code: number;
  failed: number;
  cancelled: number;
  jobs_finished: number;
}

/** Everything a dispatch run carries into the next after continue-as-new; bounded in size. */
export interface DispatchState {
  plan: PlanSummary;
  settings: DispatchSettings;
  analysis_names: string[];
  /** The dispatch whose undone tasks this one reruns. */
  retry_of?: string;
  paused: boolean;
  /** Set once failures passed the tolerance: no new jobs start. */
  stop_reason?: string;
  next_job: number;
  in_flight: Array<{ job_index: number; workflow_id: string }>;
  counts: DispatchCounts;
  failures: TaskFailure[];
  dry_run_outputs: JobReport['dryRunOutputs'];
  started_at: number;
  runs: number;
}

interface DispatchRun {
  /** Empty when started by a schedule: the workflow id then gives it (see dispatch.ts). */
  dispatch_id: string;
  /** Jobs started per run before continuing as new; small values exercise it in tests. */
  continue_as_new_after?: number;
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
  dry_run_outputs: JobReport['dryRunOutputs'];
}

export const jobFinishedSignal = defineSignal<[JobReport]>('jobFinished');
export const progressQuery = defineQuery<DispatchProgress>(PROGRESS_QUERY);
/** Changes `num_parallel_workers` of a running dispatch; answers the old and new value. */
export const resizeUpdate = defineUpdate<{ previous: number; current: number }, [number]>('resize');
/** Stops (true) or resumes (false) the start of new jobs; running jobs go on. */
export const pauseUpdate = defineUpdate<{ paused: boolean; running: number }, [boolean]>('pause');
