/**
 * The dispatch's decisions as plain functions over its run state: how a job's report counts, how
 * many failures are tolerated, how many jobs to start, what the progress answer says and how the
 * dispatch ends. No Temporal calls here, so each is unit-tested without a server; the workflow
 * (dispatch.ts) keeps the handlers, the loop, continue-as-new and cancellation.
 */
import { ErrorType, nonRetryable } from '../errors';
import type { DispatchRequest, DispatchSettings, PlanSummary } from '../types';
import type {
  DispatchCounts,
  DispatchInput,
  DispatchPhase,
  DispatchResult,
  DispatchState,
  JobReport,
} from './messages';

/** Failures kept in the state for the summary; the counts stay exact. */
export const FAILURES_KEPT = 50;
/** Outputs of dry-run tasks kept to show the user. */
export const DRY_RUN_OUTPUTS_KEPT = 20;

export function settingsOf(request: DispatchSettings): DispatchSettings {
  const { num_parallel_workers, tasks_per_job, dry_run, force } = request;
  return {
    num_parallel_workers,
    tasks_per_job,
    dry_run,
    force,
    ...(request.tolerated_failure_percent !== undefined
      ? { tolerated_failure_percent: request.tolerated_failure_percent }
      : {}),
    ...(request.tolerated_failure_count !== undefined
      ? { tolerated_failure_count: request.tolerated_failure_count }
      : {}),
  };
}

export const analysisNamesOf = (request: DispatchRequest): string[] => [
  ...new Set(request.specs.map((spec) => spec.analysis_name)),
];

/** Settings and analysis names of a run, known before it has planned. */
export function startOf(input: DispatchInput): { settings: DispatchSettings; analysis_names: string[] } {
  switch (input.kind) {
    case 'new':
      return { settings: settingsOf(input.request), analysis_names: analysisNamesOf(input.request) };
    case 'stored':
    case 'retry':
      return { settings: input.settings, analysis_names: input.analysis_names };
    case 'continued':
      return { settings: input.state.settings, analysis_names: input.state.analysis_names };
  }
}

export const noCounts = (): DispatchCounts => ({
  succeeded: 0,
  skipped: 0,
  changed_code: 0,
  failed: 0,
  cancelled: 0,
  jobs_finished: 0,
});

export function initialState(
  plan: PlanSummary,
  start: { settings: DispatchSettings; analysis_names: string[] },
  startedAt: number,
  retryOf?: string,
): DispatchState {
  return {
    plan,
    settings: start.settings,
    analysis_names: start.analysis_names,
    ...(retryOf ? { retry_of: retryOf } : {}),
    paused: false,
    next_job: 0,
    in_flight: [],
    counts: noCounts(),
    failures: [],
    dry_run_outputs: [],
    started_at: startedAt,
    runs: 1,
  };
}

export const tolerates = (settings: DispatchSettings): boolean =>
  settings.tolerated_failure_count !== undefined || settings.tolerated_failure_percent !== undefined;

/** Failures allowed before the dispatch stops starting jobs; Infinity when not limited. */
export function allowedFailures(settings: DispatchSettings, tasks: number): number {
  const limits: number[] = [];
  if (settings.tolerated_failure_count !== undefined) limits.push(settings.tolerated_failure_count);
  if (settings.tolerated_failure_percent !== undefined)
    limits.push(Math.floor((settings.tolerated_failure_percent / 100) * tasks));
  return limits.length ? Math.min(...limits) : Infinity;
}

export const tasksFinished = (counts: DispatchCounts): number =>
  counts.succeeded + counts.failed + counts.cancelled + counts.skipped + counts.changed_code;

/** Adds a finished job's report to the state; sets the stop reason once failures pass the tolerance. */
export function applyReport(state: DispatchState, report: JobReport): void {
  const counts = state.counts;
  counts.succeeded += report.succeeded;
  counts.skipped += report.skipped;
  counts.changed_code += report.changedCode;
  counts.failed += report.failed;
  counts.cancelled += report.cancelled;
  counts.jobs_finished++;
  state.failures.push(...report.failures.slice(0, Math.max(0, FAILURES_KEPT - state.failures.length)));
  state.dry_run_outputs.push(
    ...report.dryRunOutputs.slice(0, Math.max(0, DRY_RUN_OUTPUTS_KEPT - state.dry_run_outputs.length)),
  );
  const allowed = allowedFailures(state.settings, state.plan.tasks_to_run);
  if (!state.stop_reason && counts.failed > allowed)
    state.stop_reason = `${counts.failed} tasks failed, more than the ${allowed} tolerated`;
}

export const jobsLeft = (state: DispatchState): boolean =>
  state.next_job < state.plan.jobs && !state.stop_reason;

/**
 * How many jobs to start now: as many as the window has free slots, of the jobs left, and of the
 * starts this run may still make before it continues as new.
 */
export function jobsToStart(state: DispatchState, running: number, startsLeftThisRun: number): number {
  if (!jobsLeft(state) || state.paused) return 0;
  return Math.max(
    0,
    Math.min(
      state.settings.num_parallel_workers - running,
      state.plan.jobs - state.next_job,
      startsLeftThisRun,
    ),
  );
}

/** Tasks in job `jobIndex`: the plan cuts the tasks to run into consecutive jobs of `tasks_per_job`. */
export const jobTaskCount = (state: DispatchState, jobIndex: number): number =>
  Math.max(
    0,
    Math.min(state.settings.tasks_per_job, state.plan.tasks_to_run - jobIndex * state.settings.tasks_per_job),
  );

/** The Web UI's "Current Details" line of a running dispatch. */
export function detailsLine(state: DispatchState, running: number): string {
  const { counts, plan } = state;
  return (
    `${tasksFinished(counts)} of ${plan.tasks_to_run} tasks finished: ${counts.succeeded} succeeded, ` +
    `${counts.failed} failed, ${counts.skipped + counts.changed_code} skipped; ` +
    `${running} of ${state.settings.num_parallel_workers} jobs running${state.paused ? ' (paused)' : ''}`
  );
}

/** The progress answer (and the result), from the state once planned, from the input before. */
export function progressView(view: {
  dispatchId: string;
  phase: DispatchPhase;
  state?: DispatchState;
  start: { settings: DispatchSettings; analysis_names: string[] };
  retryOf?: string;
  running: number;
  now: number;
}): DispatchResult {
  const { state } = view;
  const counts = state?.counts ?? noCounts();
  const retryOf = state?.retry_of ?? view.retryOf;
  return {
    dispatch_id: view.dispatchId,
    phase: view.phase,
    ...(state ? { plan: state.plan } : {}),
    settings: state?.settings ?? view.start.settings,
    analysis_names: state?.analysis_names ?? view.start.analysis_names,
    paused: state?.paused ?? false,
    ...(retryOf ? { retry_of: retryOf } : {}),
    running: view.running,
    jobs_started: state?.next_job ?? 0,
    counts,
    tasks_finished: tasksFinished(counts),
    failures: state?.failures ?? [],
    started_at: state?.started_at ?? view.now,
    runs: state?.runs ?? 1,
    ...(state?.stop_reason ? { error: state.stop_reason } : {}),
    dry_run_outputs: state?.dry_run_outputs ?? [],
  };
}

/** How a dispatch with no jobs left ends: its phase, or the failure it ends with. */
export function ending(
  state: DispatchState,
):
  { phase: 'completed' | 'completed_with_failures' } | { phase: 'failed'; type: ErrorType; message: string } {
  const failed = state.counts.failed;
  if (failed > 0 && state.stop_reason)
    return {
      phase: 'failed',
      type: ErrorType.FailureThresholdExceeded,
      message: `${state.stop_reason}; ${state.plan.jobs - state.next_job} jobs were not started`,
    };
  if (failed > 0 && !tolerates(state.settings))
    return {
      phase: 'failed',
      type: ErrorType.TasksFailed,
      message: `${failed} of ${state.plan.tasks_to_run} tasks failed`,
    };
  return { phase: failed > 0 ? 'completed_with_failures' : 'completed' };
}

// Inputs of runs started before the settings got one shape: histories hold them, and runs already
// on a server (or schedules created earlier) still start or continue with them.
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
  failures: DispatchState['failures'];
  dryRunOutputs: DispatchState['dry_run_outputs'];
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
    plan: old.plan,
    settings: legacySettings(old),
    analysis_names: old.analysisNames,
    ...(old.retryOf ? { retry_of: old.retryOf } : {}),
    paused: old.paused,
    ...(old.stopReason ? { stop_reason: old.stopReason } : {}),
    next_job: old.nextJob,
    in_flight: old.inFlight.map((job) => ({ job_index: job.jobIndex, workflow_id: job.workflowId })),
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

/** Today's input as is; an earlier input in today's shape. */
export function decodeDispatchInput(raw: DispatchInput | LegacyDispatchInput): DispatchInput {
  if ('kind' in raw) return raw;
  const run = {
    dispatch_id: raw.dispatchId,
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
