import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { DispatchRequest, PlanSummary } from '../types';

export interface JobInput {
  dispatchId: string;
  /** The dispatch's workflow id (no run id), so the report reaches whichever run is current. */
  dispatchWorkflowId: string;
  planId: string;
  jobIndex: number;
  jobsPerPage: number;
  dryRun: boolean;
  force: boolean;
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

/** How many failed tasks a dispatch tolerates; none given means none tolerated. */
export interface FailureTolerance {
  percent?: number;
  count?: number;
}

/** A dispatch that reruns what another one left undone, over that one's plan. */
export interface RetryOf {
  dispatchId: string;
  numParallelWorkers: number;
  tasksPerJob: number;
  dryRun: boolean;
  force: boolean;
  analysisNames: string[];
  tolerance: FailureTolerance;
}

export interface DispatchCounts {
  succeeded: number;
  skipped: number;
  changedCode: number;
  failed: number;
  cancelled: number;
  jobsFinished: number;
}

/** Everything a dispatch run carries into the next after continue-as-new; bounded in size. */
export interface DispatchState {
  plan: PlanSummary;
  numParallelWorkers: number;
  tasksPerJob: number;
  tolerance: FailureTolerance;
  paused: boolean;
  /** Set once failures passed the tolerance: no new jobs start. */
  stopReason?: string;
  retryOf?: string;
  dryRun: boolean;
  force: boolean;
  analysisNames: string[];
  nextJob: number;
  inFlight: Array<{ jobIndex: number; workflowId: string }>;
  counts: DispatchCounts;
  failures: TaskFailure[];
  dryRunOutputs: JobReport['dryRunOutputs'];
  startedAt: number;
  runs: number;
}

export interface DispatchInput {
  dispatchId: string;
  /** First run only; later runs carry `state` instead. */
  request?: DispatchRequest;
  /** First run of a retry dispatch: replan from the other dispatch's plan. */
  retryOf?: RetryOf;
  state?: DispatchState;
  /** Children started per run before continuing as new; small values exercise it in tests. */
  continueAsNewAfter?: number;
}

export interface DispatchProgress {
  dispatchId: string;
  phase: DispatchPhase;
  plan?: PlanSummary;
  numParallelWorkers: number;
  tasksPerJob: number;
  dryRun: boolean;
  force: boolean;
  analysisNames: string[];
  tolerance: FailureTolerance;
  paused: boolean;
  retryOf?: string;
  running: number;
  jobsStarted: number;
  counts: DispatchCounts;
  /** Tasks that will not run any more: succeeded, skipped, failed or cancelled in this dispatch. */
  tasksFinished: number;
  failures: TaskFailure[];
  startedAt: number;
  runs: number;
  error?: string;
}

export interface DispatchResult extends DispatchProgress {
  dryRunOutputs: JobReport['dryRunOutputs'];
}

export const jobFinishedSignal = defineSignal<[JobReport]>('jobFinished');
export const progressQuery = defineQuery<DispatchProgress>('progress');
/** Changes `num_parallel_workers` of a running dispatch; answers the old and new value. */
export const resizeUpdate = defineUpdate<{ previous: number; current: number }, [number]>('resize');
/** Stops (true) or resumes (false) the start of new jobs; running jobs go on. */
export const pauseUpdate = defineUpdate<{ paused: boolean; running: number }, [boolean]>('pause');
