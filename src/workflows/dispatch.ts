import {
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  ContinueAsNew,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
// Activities are imported as types only: workflow code must not load I/O libraries.
import type { Activities } from '../activities';
import type { ClosedJob } from '../activities/jobs';
import type { DispatchEnd } from '../activities/notify';
import type { Duration } from '@temporalio/common';
import { capMessage } from '../problem-list';
import { dispatchIdOf, jobWorkflowId } from '../workflow-ids';
import type { PlanSummary } from '../types';
import {
  detailsLine,
  ending,
  finishJob,
  isPlanned,
  jobsLeft,
  jobsToStart,
  jobTaskCount,
  lostJobReport,
  progressView,
  runningJobs,
  startedJobs,
  startState,
} from './dispatch-rules';
import { analysisJob } from './job';
import {
  decodeDispatchInput,
  decodeJobReport,
  reportFromResult,
  type DispatchInputOfAnyVersion,
} from './legacy-input';
import {
  jobFinishedSignal,
  pauseUpdate,
  progressQuery,
  resizeUpdate,
  type DispatchInput,
  type DispatchResult,
  type DispatchState,
  type JobReport,
  type PlannedState,
} from './messages';
import { AnalysisNameKey, DispatchIdKey, RetryOfKey } from './search-attributes';

const { planDispatch, planRetry } = proxyActivities<Activities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', maximumInterval: '30 seconds', maximumAttempts: 20 },
  summary: 'plan: select assets, find files, store jobs',
});

const { closedJobs } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', maximumInterval: '30 seconds', maximumAttempts: 5 },
  summary: 'look for jobs that closed without reporting',
});

/** How long one wait for the jobs of earlier runs lasts before it is asked again. */
const CARRIED_WAIT_SECONDS = 240;
const { closedJobs: carriedJobsClosed } = proxyActivities<Activities>({
  startToCloseTimeout: `${CARRIED_WAIT_SECONDS + 60} seconds`,
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', maximumInterval: '30 seconds' },
  summary: 'wait for jobs an earlier run started',
});

/**
 * The end of a dispatch told to whoever asked (`--notify`): retried for about a quarter of an
 * hour, since a chat service may be down for a while, and never the dispatch's own failure.
 */
const { notifyDispatchEnd } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '10 seconds',
    backoffCoefficient: 2,
    maximumInterval: '5 minutes',
    maximumAttempts: 8,
  },
  summary: 'notify: the dispatch ended',
});

const CONTINUE_AS_NEW_AFTER = 400;
const CANCEL_GRACE = '10 minutes';
/** While a cancelled dispatch waits for its jobs: how often it looks for lost ones, and how long. */
const CANCEL_CHECK_EVERY = '30 seconds';
const CANCEL_CHECKS = 20;
/** Marks the dispatches that look for lost jobs: runs recorded before it scheduled no such step. */
const LOST_JOBS_PATCH = 'dispatch-notices-lost-jobs';
const CHECK_JOBS_EVERY = '5 minutes';
/** Checks one run makes before it continues as new, so a long wait on slow jobs keeps its history short. */
const CHECKS_PER_RUN = 200;
/**
 * Marks the dispatches whose jobs report by their result (JobInput.reportBy): a one-task job's
 * signal cost the server about a fifth of the job. Runs recorded before it had every job signal.
 */
const REPORT_BY_RESULT_PATCH = 'jobs-report-by-result';

/**
 * The dispatch: plans once, then keeps a sliding window of at most `num_parallel_workers` job
 * workflows running. Jobs report back by signal; the dispatch continues as new after starting a
 * batch of jobs so its history stays bounded however many jobs there are.
 */
export async function dispatch(raw: DispatchInputOfAnyVersion): Promise<DispatchResult> {
  const input = decodeDispatchInput(raw);
  const info = workflowInfo();
  // A schedule starts every run with the same input, so it cannot give each run its own id: an
  // empty id means "use the workflow id", which the schedule makes unique by appending the time.
  const dispatchId = input.dispatchId || dispatchIdOf(info.workflowId);
  if (!info.typedSearchAttributes.get(DispatchIdKey)) {
    upsertSearchAttributes([{ key: DispatchIdKey, value: dispatchId }]);
  }
  const state: DispatchState = input.kind === 'continued' ? input.state : startState(input, Date.now());
  const byResult = patched(REPORT_BY_RESULT_PATCH);
  const progress = () => progressView(dispatchId, state);
  const { showProgress, reported } = handleMessages(dispatchId, state);
  let watch: JobWatch | undefined;
  let carried: CancellationScope | undefined;
  // Inputs without a notification target (all those of earlier versions) schedule nothing more,
  // so their histories replay as they were recorded.
  const announceEnd = (status: DispatchEnd['status'], error?: string) =>
    input.notify ? notifyEnd(input.notify, dispatchId, state, status, error) : Promise.resolve();

  try {
    const current = isPlanned(state)
      ? state
      : Object.assign(state, { plan: await plan(input, dispatchId), phase: 'running' as const });
    const limit = input.continue_as_new_after ?? CONTINUE_AS_NEW_AFTER;
    let startedThisRun = 0;
    let startsPending = 0;
    let startError: unknown;
    const starting = new Set<number>();
    const jobWatch = watchJobs(current, starting, input.check_jobs_every ?? CHECK_JOBS_EVERY, showProgress);
    watch = jobWatch;
    if (byResult) carried = awaitCarriedJobs(current, reported);
    const toStart = () => jobsToStart(current, limit - startedThisRun);
    const allDone = () => !jobsLeft(current) && runningJobs(current) === 0;
    const checkedEnough = () => jobWatch.checks >= CHECKS_PER_RUN && !allDone();

    // The loop never waits for the server to confirm the starts it asked for: what it starts
    // depends only on the reports it has seen, however the events happened to be batched into
    // workflow tasks, so a replay (on another worker, after a crash) takes the same decisions.
    for (;;) {
      if (startError !== undefined) throw startError;
      const count = toStart();
      for (let i = 0; i < count; i++) {
        const jobIndex = current.next_job++;
        startedThisRun++;
        startsPending++;
        starting.add(jobIndex);
        startJob(current, jobIndex, dispatchId, byResult ? reported : undefined)
          .catch((err: unknown) => {
            // A job that never started will never report: stop counting it as running.
            delete current.running[jobIndex];
            startError ??= err;
          })
          .finally(() => {
            startsPending--;
            starting.delete(jobIndex);
          });
      }
      if (count > 0) showProgress();
      if (allDone()) break;
      if ((startedThisRun >= limit && jobsLeft(current)) || checkedEnough()) break;
      if (current.stop_reason) current.phase = 'draining';
      // Wake only when there is something to do: a free slot with jobs left, the end, a job that
      // could not be started, or a run that has checked its jobs long enough.
      await condition(() => startError !== undefined || toStart() > 0 || allDone() || checkedEnough());
    }
    // Continue-as-new or finish only once every start asked for is confirmed (or refused).
    await condition(() => startsPending === 0);
    if (startError !== undefined) throw startError;
    // A lost job's slot is not carried into the next run.
    if (!allDone()) await jobWatch.check();
    // The next run waits for the jobs still running, and their results, itself.
    carried?.cancel();

    if (jobWatch.enabled ? !allDone() : jobsLeft(current)) {
      await condition(allHandlersFinished);
      return await continueAsNew<typeof dispatch>({
        kind: 'continued',
        dispatchId,
        state: { ...current, runs: current.runs + 1 },
        continue_as_new_after: input.continue_as_new_after,
        ...(input.check_jobs_every !== undefined ? { check_jobs_every: input.check_jobs_every } : {}),
        ...(input.notify ? { notify: input.notify } : {}),
      });
    }
    const end = ending(current);
    current.phase = end.phase;
    // The dispatch fails when a task failed beyond what it tolerates, so the Web UI and `--wait`
    // tell it at a glance; the details carry the same summary a success returns.
    if (end.phase === 'failed')
      throw ApplicationFailure.create({
        type: end.type,
        message: end.message,
        nonRetryable: true,
        details: [progress()],
      });
    await announceEnd(end.phase);
    return progress();
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err;
    if (!isCancellation(err)) {
      state.phase = 'failed';
      await announceEnd('failed', failureMessage(err));
      throw err;
    }
    state.phase = 'cancelling';
    await cancelRunningJobs(state, watch);
    state.phase = 'cancelled';
    await announceEnd('cancelled');
    throw err;
  }
}

/** The innermost message of a failure, capped: an activity's failure wraps its cause. */
function failureMessage(err: unknown): string {
  let current: unknown = err;
  while (
    current instanceof Error &&
    current.cause instanceof Error &&
    !(current instanceof ApplicationFailure)
  )
    current = current.cause;
  return capMessage(current instanceof Error ? current.message : String(current));
}

/**
 * Runs the notification activity, whatever state the dispatch ends in (a cancelled one too), and
 * only logs it when it could not be delivered: a notification never fails its dispatch.
 */
async function notifyEnd(
  target: string,
  dispatchId: string,
  state: DispatchState,
  status: DispatchEnd['status'],
  error?: string,
): Promise<void> {
  const { dry_run_outputs: _omitted, ...progress } = progressView(dispatchId, state);
  await CancellationScope.nonCancellable(() =>
    notifyDispatchEnd({ target, status, ...(error ? { error } : {}), progress, ended_at: Date.now() }),
  ).catch((err: unknown) =>
    log.warn('the end of the dispatch was not announced', {
      dispatch_id: dispatchId,
      error: failureMessage(err),
    }),
  );
}

/**
 * The dispatch's messages, all answered from its state: a job's report, the progress query, resize
 * and pause. Returns the update of the Web UI's details line, which the window loop calls too, and
 * what counts a job's report, which its result passes to as its signal does.
 */
function handleMessages(
  dispatchId: string,
  state: DispatchState,
): { showProgress: () => void; reported: (report: JobReport) => void } {
  const showProgress = () => {
    if (isPlanned(state)) setCurrentDetails(detailsLine(state));
  };
  const reported = (report: JobReport) => {
    if (isPlanned(state) && finishJob(state, report)) showProgress();
  };
  const refuseWhilePlanning = (what: string): void => {
    if (!isPlanned(state)) throw new Error(`the dispatch is still planning; ${what} it once it runs`);
  };

  setHandler(jobFinishedSignal, (message) => reported(decodeJobReport(message)));
  setHandler(progressQuery, () => {
    const { dry_run_outputs: _omitted, ...rest } = progressView(dispatchId, state);
    return rest;
  });
  setHandler(
    resizeUpdate,
    (size) => {
      const previous = state.settings.num_parallel_workers;
      state.settings.num_parallel_workers = size;
      showProgress();
      return { previous, current: size };
    },
    {
      validator: (size) => {
        if (!Number.isSafeInteger(size) || size < 1)
          throw new Error(`num_parallel_workers must be a whole number >= 1, got ${size}`);
        refuseWhilePlanning('resize');
      },
    },
  );
  setHandler(
    pauseUpdate,
    (paused) => {
      state.paused = paused;
      showProgress();
      return { paused, running: runningJobs(state) };
    },
    { validator: (_paused: boolean) => refuseWhilePlanning('pause') },
  );
  return { showProgress, reported };
}

/** Plans a new dispatch, or replans what another dispatch left undone. */
async function plan(input: DispatchInput, dispatchId: string): Promise<PlanSummary> {
  if (input.kind === 'continued') throw new Error('a continued dispatch does not plan');
  if (input.kind === 'retry') {
    upsertSearchAttributes([{ key: RetryOfKey, value: input.retry_of }]);
    return planRetry({
      fromPlanId: input.retry_of,
      planId: dispatchId,
      tasksPerJob: input.settings.tasks_per_job,
    });
  }
  // Either way the same activity is scheduled: histories of runs that carried their request
  // replay unchanged.
  return input.kind === 'stored'
    ? planDispatch({ requestId: input.request_id, planId: dispatchId })
    : planDispatch({ request: input.request, planId: dispatchId });
}

/**
 * Starts a job. With `reported`, the job reports by its result, which is handed to `reported` when
 * it completes while this run lasts (a later run learns it from awaitCarriedJobs).
 */
async function startJob(
  state: PlannedState,
  jobIndex: number,
  dispatchId: string,
  reported?: (report: JobReport) => void,
): Promise<void> {
  const dispatchWorkflowId = workflowInfo().workflowId;
  const workflowId = jobWorkflowId(dispatchWorkflowId, jobIndex);
  state.running[jobIndex] = workflowId;
  const names = state.analysis_names.join(', ');
  const job = await startChild(analysisJob, {
    workflowId,
    args: [
      {
        dispatchId,
        dispatchWorkflowId,
        jobIndex,
        jobsPerPage: state.plan.jobs_per_page,
        dryRun: state.settings.dry_run,
        force: state.settings.force,
        taskCount: jobTaskCount(state, jobIndex),
        ...(reported ? { reportBy: 'result' as const } : {}),
      },
    ],
    parentClosePolicy: ParentClosePolicy.ABANDON,
    typedSearchAttributes: [
      { key: DispatchIdKey, value: dispatchId },
      { key: AnalysisNameKey, value: names },
    ],
    staticSummary: `job ${jobIndex + 1} of ${state.plan.jobs} · ${names}`,
    staticDetails: `Dispatch ${dispatchId}: ${state.plan.tasks_to_run} tasks in ${state.plan.jobs} jobs`,
  });
  // A job that fails or is cancelled reports by signal as well; only a completion is read here.
  if (reported)
    job.result().then(
      (result: unknown) => {
        const report = reportFromResult(result, jobIndex);
        if (report) reported(report);
      },
      () => undefined,
    );
}

/** What a job that closed counts for: its report when it completed, else all its tasks failed. */
function closedJobReport(state: PlannedState, jobIndex: number, job: ClosedJob): JobReport {
  return reportFromResult(job.report, jobIndex) ?? lostJobReport(state, jobIndex, job);
}

/**
 * The jobs an earlier run started and this run found still running report by their result to
 * that run, which has closed: waits for them in steps of a few minutes (each a long poll per job
 * on the server) and counts each as it closes. Cancelled before the run continues as new.
 */
function awaitCarriedJobs(state: PlannedState, reported: (report: JobReport) => void): CancellationScope {
  const carried = new Set(Object.values(state.running));
  const scope = new CancellationScope();
  scope
    .run(async () => {
      for (;;) {
        const waiting = new Map(
          Object.entries(state.running)
            .filter(([, workflowId]) => carried.has(workflowId))
            .map(([jobIndex, workflowId]) => [workflowId, Number(jobIndex)]),
        );
        if (waiting.size === 0) return;
        const closed = await carriedJobsClosed({
          workflowIds: [...waiting.keys()],
          waitSeconds: CARRIED_WAIT_SECONDS,
        });
        for (const job of closed) {
          const jobIndex = waiting.get(job.workflowId);
          if (jobIndex !== undefined) reported(closedJobReport(state, jobIndex, job));
        }
      }
    })
    .catch(() => undefined);
  return scope;
}

interface JobWatch {
  /** False in runs recorded before the dispatch looked for lost jobs: they replay without it. */
  enabled: boolean;
  /** Checks made by this run. */
  checks: number;
  /** Counts the jobs that closed without reporting as failed, and frees their slots. */
  check(): Promise<void>;
}

/**
 * Every `every` while jobs run, asks which of them have closed: a job terminated by hand never
 * reports, and would hold its slot for ever. A report that arrives after its job was counted lost
 * is a duplicate then, and changes nothing.
 */
function watchJobs(
  state: PlannedState,
  starting: ReadonlySet<number>,
  every: Duration,
  shown: () => void,
): JobWatch {
  const watch: JobWatch = {
    enabled: patched(LOST_JOBS_PATCH),
    checks: 0,
    async check() {
      const jobs = startedJobs(state, starting);
      if (!watch.enabled || jobs.size === 0) return;
      watch.checks++;
      // A check that fails is skipped: the next one asks again.
      const closed = await closedJobs({ workflowIds: [...jobs.keys()] }).catch((err: unknown) => {
        if (isCancellation(err)) throw err;
        return [];
      });
      for (const job of closed) {
        const jobIndex = jobs.get(job.workflowId);
        if (jobIndex !== undefined) finishJob(state, closedJobReport(state, jobIndex, job));
      }
      if (closed.length > 0) shown();
    },
  };
  // Cancellation of the dispatch ends the loop; the dispatch's own handling of it follows.
  const loop = async () => {
    for (;;) {
      await condition(() => startedJobs(state, starting).size > 0);
      await sleep(every);
      await watch.check();
    }
  };
  if (watch.enabled) loop().catch(() => undefined);
  return watch;
}

/**
 * Jobs started by earlier runs (before a continue-as-new) are no children of this run, and ABANDON
 * (they must survive continue-as-new) keeps the server from passing a cancellation on: cancel every
 * job still running by its id, and wait for its report.
 */
async function cancelRunningJobs(state: DispatchState, watch: JobWatch | undefined): Promise<void> {
  await CancellationScope.nonCancellable(async () => {
    await Promise.all(
      Object.values(state.running).map((workflowId) =>
        getExternalWorkflowHandle(workflowId)
          .cancel()
          .catch(() => undefined),
      ),
    );
    if (!watch?.enabled) {
      await condition(() => runningJobs(state) === 0, CANCEL_GRACE);
      return;
    }
    // A job that closed without reporting (terminated) would hold the wait to its end.
    for (let i = 0; i < CANCEL_CHECKS && runningJobs(state) > 0; i++) {
      await watch.check();
      await condition(() => runningJobs(state) === 0, CANCEL_CHECK_EVERY);
    }
  });
}
