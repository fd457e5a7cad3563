/**
 * What earlier versions wrote into the payloads of a dispatch, in today's shape. Histories hold
 * these payloads, schedules created earlier start every run with theirs, and a dispatch or job
 * still running replays with them: a dispatch's input from before it had a `kind`, one that names
 * its id `dispatch_id`, the state a run carried into the next as it was then, and a job's report.
 */
import { ErrorType, nonRetryable } from '../errors';
import type { DispatchRequest, DispatchSettings, PlanSummary } from '../types';
import { settingsOf } from './dispatch-rules';
import type {
  DispatchInput,
  DispatchState,
  DryRunOutput,
  EarlierJobReport,
  JobReport,
  TaskFailure,
} from './messages';

/** Whether a job's result has a report's shape, this version's or an earlier one's. */
function isJobReport(raw: unknown): raw is JobReport | EarlierJobReport {
  if (typeof raw !== 'object' || raw === null) return false;
  return 'counts' in raw
    ? typeof raw.counts === 'object' && raw.counts !== null
    : 'jobIndex' in raw && typeof raw.jobIndex === 'number';
}

/**
 * A job's result as its report, counted under the index the dispatch started it with; undefined
 * when the result is no report.
 */
export function reportFromResult(raw: unknown, jobIndex: number): JobReport | undefined {
  return isJobReport(raw) ? { ...decodeJobReport(raw), job_index: jobIndex } : undefined;
}

export function decodeJobReport(raw: JobReport | EarlierJobReport): JobReport {
  if ('counts' in raw) return raw;
  return {
    job_index: raw.jobIndex,
    counts: {
      succeeded: raw.succeeded,
      skipped: raw.skipped,
      changed_code: raw.changedCode,
      failed: raw.failed,
      cancelled: raw.cancelled,
    },
    failures: raw.failures,
    dry_run_outputs: raw.dryRunOutputs,
  };
}

/** A run's state before it held its phase and its running jobs by index. */
type EarlierState = Omit<DispatchState, 'phase' | 'plan' | 'running'> & {
  plan: PlanSummary;
  in_flight: Array<{ job_index: number; workflow_id: string }>;
};

type OmitEach<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
interface EarlierRun {
  dispatch_id: string;
  continue_as_new_after?: number;
}

/** Inputs with a kind, as versions until December 2026 wrote them: the id as `dispatch_id`. */
export type EarlierDispatchInput =
  | (EarlierRun & OmitEach<Exclude<DispatchInput, { kind: 'continued' }>, 'dispatchId'>)
  | (EarlierRun & { kind: 'continued'; state: EarlierState });

// Inputs of runs started before inputs had a kind and the settings one shape.
interface LegacyCounts {
  succeeded: number;
  skipped: number;
  changedCode: number;
  failed: number;
  cancelled: number;
  jobsFinished: number;
}
interface LegacyTolerance {
  percent?: number;
  count?: number;
}
interface LegacyState {
  plan: PlanSummary;
  numParallelWorkers: number;
  tasksPerJob: number;
  tolerance: LegacyTolerance;
  paused: boolean;
  stopReason?: string;
  retryOf?: string;
  dryRun: boolean;
  force: boolean;
  analysisNames: string[];
  nextJob: number;
  inFlight: Array<{ jobIndex: number; workflowId: string }>;
  counts: LegacyCounts;
  failures: TaskFailure[];
  dryRunOutputs: DryRunOutput[];
  startedAt: number;
  runs: number;
}
interface LegacyRetryOf {
  dispatchId: string;
  numParallelWorkers: number;
  tasksPerJob: number;
  dryRun: boolean;
  force: boolean;
  analysisNames: string[];
  tolerance: LegacyTolerance;
}
export interface LegacyDispatchInput {
  dispatchId: string;
  request?: DispatchRequest;
  retryOf?: LegacyRetryOf;
  state?: LegacyState;
  continueAsNewAfter?: number;
}

function legacySettings(old: LegacyRetryOf | LegacyState): DispatchSettings {
  return settingsOf({
    num_parallel_workers: old.numParallelWorkers,
    tasks_per_job: old.tasksPerJob,
    dry_run: old.dryRun,
    force: old.force,
    tolerated_failure_percent: old.tolerance.percent,
    tolerated_failure_count: old.tolerance.count,
  });
}

function legacyState(old: LegacyState): DispatchState {
  const c = old.counts;
  return {
    phase: 'running',
    plan: old.plan,
    settings: legacySettings(old),
    analysis_names: old.analysisNames,
    ...(old.retryOf ? { retry_of: old.retryOf } : {}),
    paused: old.paused,
    ...(old.stopReason ? { stop_reason: old.stopReason } : {}),
    next_job: old.nextJob,
    running: Object.fromEntries(old.inFlight.map((job) => [job.jobIndex, job.workflowId])),
    counts: {
      succeeded: c.succeeded,
      skipped: c.skipped,
      changed_code: c.changedCode,
      failed: c.failed,
      cancelled: c.cancelled,
      jobs_finished: c.jobsFinished,
    },
    failures: old.failures,
    dry_run_outputs: old.dryRunOutputs,
    started_at: old.startedAt,
    runs: old.runs,
  };
}

/** A run carried on only while it was running: that is its phase. */
function carriedState(state: EarlierState): DispatchState {
  const { in_flight, ...rest } = state;
  return {
    phase: 'running',
    ...rest,
    running: Object.fromEntries(in_flight.map((job) => [job.job_index, job.workflow_id])),
  };
}

function decodeLegacy(raw: LegacyDispatchInput): DispatchInput {
  const run = {
    dispatchId: raw.dispatchId,
    ...(raw.continueAsNewAfter !== undefined ? { continue_as_new_after: raw.continueAsNewAfter } : {}),
  };
  if (raw.state) return { ...run, kind: 'continued', state: legacyState(raw.state) };
  if (raw.retryOf)
    return {
      ...run,
      kind: 'retry',
      retry_of: raw.retryOf.dispatchId,
      settings: legacySettings(raw.retryOf),
      analysis_names: raw.retryOf.analysisNames,
    };
  if (raw.request) return { ...run, kind: 'new', request: raw.request };
  throw nonRetryable(ErrorType.InvalidInput, 'dispatch started without a request, a retry or a state');
}

/** What a dispatch may be started or continued with: the input of any version so far. */
export type DispatchInputOfAnyVersion = DispatchInput | EarlierDispatchInput | LegacyDispatchInput;

/** Today's input as is; an earlier input in today's shape. */
export function decodeDispatchInput(raw: DispatchInputOfAnyVersion): DispatchInput {
  if (!('kind' in raw)) return decodeLegacy(raw);
  if (!('dispatch_id' in raw)) return raw;
  const { dispatch_id: dispatchId, ...rest } = raw;
  return rest.kind === 'continued'
    ? { ...rest, dispatchId, state: carriedState(rest.state) }
    : { ...rest, dispatchId };
}
