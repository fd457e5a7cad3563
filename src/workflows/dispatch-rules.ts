/**
 * The dispatch's decisions as plain functions over its run state: how a job's report counts, how
 * many failures are tolerated, how many jobs to start, what the progress answer says and how the
 * dispatch ends. No Temporal calls here, so each is unit-tested without a server; the workflow
 * (dispatch.ts) keeps the handlers, the loop, continue-as-new and cancellation.
 */
import type { ClosedJob } from '../activities/jobs';
import { ErrorType } from '../errors';
import type { DispatchRequest, DispatchSettings } from '../types';
import type {
  DispatchCounts,
  DispatchInput,
  DispatchResult,
  DispatchState,
  JobReport,
  PlannedState,
  TaskCounts,
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
    ...(request.priority !== undefined ? { priority: request.priority } : {}),
    ...(request.fairness_key !== undefined ? { fairness_key: request.fairness_key } : {}),
  };
}

export const analysisNamesOf = (request: DispatchRequest): string[] => [
  ...new Set(request.specs.map((spec) => spec.analysis_name)),
];

export const noCounts = (): DispatchCounts => ({
  succeeded: 0,
  skipped: 0,
  changed_code: 0,
  failed: 0,
  cancelled: 0,
  jobs_finished: 0,
});

/** The state of a dispatch that starts: what its input says, before it has planned. */
export function startState(input: Exclude<DispatchInput, { kind: 'continued' }>, now: number): DispatchState {
  const start =
    input.kind === 'new'
      ? { settings: settingsOf(input.request), analysis_names: analysisNamesOf(input.request) }
      : { settings: input.settings, analysis_names: input.analysis_names };
  return {
    phase: 'planning',
    ...start,
    ...(input.kind === 'retry' ? { retry_of: input.retry_of } : {}),
    paused: false,
    next_job: 0,
    running: {},
    counts: noCounts(),
    failures: [],
    dry_run_outputs: [],
    started_at: now,
    runs: 1,
  };
}

export const isPlanned = (state: DispatchState): state is PlannedState => state.plan !== undefined;

export const runningJobs = (state: DispatchState): number => Object.keys(state.running).length;

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

const TASK_COUNTS = ['succeeded', 'skipped', 'changed_code', 'failed', 'cancelled'] as const satisfies Array<
  keyof TaskCounts
>;

export const tasksFinished = (counts: DispatchCounts): number =>
  counts.succeeded + counts.failed + counts.cancelled + counts.skipped + counts.changed_code;

/** Adds a finished job's report to the state; sets the stop reason once failures pass the tolerance. */
export function applyReport(state: PlannedState, report: JobReport): void {
  const { counts } = state;
  for (const key of TASK_COUNTS) counts[key] += report.counts[key];
  counts.jobs_finished++;
  state.failures.push(...report.failures.slice(0, Math.max(0, FAILURES_KEPT - state.failures.length)));
  state.dry_run_outputs.push(
    ...report.dry_run_outputs.slice(0, Math.max(0, DRY_RUN_OUTPUTS_KEPT - state.dry_run_outputs.length)),
  );
  const allowed = allowedFailures(state.settings, state.plan.tasks_to_run);
  if (!state.stop_reason && counts.failed > allowed)
    state.stop_reason = `${counts.failed} tasks failed, more than the ${allowed} tolerated`;
}

/**
 * Counts a job's report once: true when the job was still counted as running. A report that comes
 * after the job was counted lost (or a second report) changes nothing.
 */
export function finishJob(state: PlannedState, report: JobReport): boolean {
  if (!(report.job_index in state.running)) return false;
  delete state.running[report.job_index];
  applyReport(state, report);
  return true;
}

/**
 * What a job that closed without reporting (terminated by hand, timed out, gone from the server)
 * is counted as: every task of it failed, so its slot frees and the dispatch can end.
 */
export function lostJobReport(state: PlannedState, jobIndex: number, job: ClosedJob): JobReport {
  const how = job.status.toLowerCase().replace(/_/g, ' ');
  return {
    job_index: jobIndex,
    counts: {
      succeeded: 0,
      skipped: 0,
      changed_code: 0,
      failed: jobTaskCount(state, jobIndex),
      cancelled: 0,
    },
    failures: [
      { hash: '', asset_name: '', error: `job ${job.workflowId} closed without reporting (${how})` },
    ],
    dry_run_outputs: [],
  };
}

/** Running jobs by workflow id, but those whose start is not confirmed yet: they cannot have closed. */
export function startedJobs(state: PlannedState, starting: ReadonlySet<number>): Map<string, number> {
  return new Map(
    Object.entries(state.running)
      .filter(([jobIndex]) => !starting.has(Number(jobIndex)))
      .map(([jobIndex, workflowId]) => [workflowId, Number(jobIndex)]),
  );
}

export const jobsLeft = (state: PlannedState): boolean =>
  state.next_job < state.plan.jobs && !state.stop_reason;

/**
 * How many jobs to start now: as many as the window has free slots, of the jobs left, and of the
 * starts this run may still make before it continues as new.
 */
export function jobsToStart(state: PlannedState, startsLeftThisRun: number): number {
  if (!jobsLeft(state) || state.paused) return 0;
  return Math.max(
    0,
    Math.min(
      state.settings.num_parallel_workers - runningJobs(state),
      state.plan.jobs - state.next_job,
      startsLeftThisRun,
    ),
  );
}

/** Tasks in job `jobIndex`: the plan cuts the tasks to run into consecutive jobs of `tasks_per_job`. */
export const jobTaskCount = (state: PlannedState, jobIndex: number): number =>
  Math.max(
    0,
    Math.min(state.settings.tasks_per_job, state.plan.tasks_to_run - jobIndex * state.settings.tasks_per_job),
  );

/** The Web UI's "Current Details" line of a running dispatch. */
export function detailsLine(state: PlannedState): string {
  const { counts, plan } = state;
  return (
    `${tasksFinished(counts)} of ${plan.tasks_to_run} tasks finished: ${counts.succeeded} succeeded, ` +
    `${counts.failed} failed, ${counts.skipped + counts.changed_code} skipped; ` +
    `${runningJobs(state)} of ${state.settings.num_parallel_workers} jobs running${state.paused ? ' (paused)' : ''}`
  );
}

/** The progress answer (and the result): the state, flattened for readers. */
export function progressView(dispatchId: string, state: DispatchState): DispatchResult {
  const { counts } = state;
  return {
    dispatch_id: dispatchId,
    phase: state.phase,
    ...(state.plan ? { plan: state.plan } : {}),
    settings: state.settings,
    analysis_names: state.analysis_names,
    paused: state.paused,
    ...(state.retry_of ? { retry_of: state.retry_of } : {}),
    running: runningJobs(state),
    jobs_started: state.next_job,
    counts,
    tasks_finished: tasksFinished(counts),
    failures: state.failures,
    started_at: state.started_at,
    runs: state.runs,
    ...(state.stop_reason ? { error: state.stop_reason } : {}),
    dry_run_outputs: state.dry_run_outputs,
  };
}

/** How a dispatch with no jobs left ends: its phase, or the failure it ends with. */
export function ending(
  state: PlannedState,
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
