import {
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  ParentClosePolicy,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
// Activities are imported as types only: workflow code must not load I/O libraries.
import type { Activities } from '../activities';
import type { PlanSummary } from '../types';
import { analysisJob } from './job';
import {
  jobFinishedSignal,
  pauseUpdate,
  progressQuery,
  resizeUpdate,
  type DispatchInput,
  type DispatchPhase,
  type DispatchResult,
  type DispatchState,
  type FailureTolerance,
} from './messages';
import { AnalysisNameKey, DispatchIdKey, RetryOfKey } from './search-attributes';

const { planDispatch, planRetry } = proxyActivities<Activities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', maximumInterval: '30 seconds', maximumAttempts: 20 },
  summary: 'plan: select assets, find files, store jobs',
});

const CONTINUE_AS_NEW_AFTER = 400;
const FAILURES_KEPT = 50;
const CANCEL_GRACE = '10 minutes';

/** Failures allowed before the dispatch stops starting jobs; Infinity when not limited. */
function allowedFailures(tolerance: FailureTolerance, tasks: number): number {
  const limits: number[] = [];
  if (tolerance.count !== undefined) limits.push(tolerance.count);
  if (tolerance.percent !== undefined) limits.push(Math.floor((tolerance.percent / 100) * tasks));
  return limits.length ? Math.min(...limits) : Infinity;
}

const tolerates = (tolerance: FailureTolerance): boolean =>
  tolerance.count !== undefined || tolerance.percent !== undefined;

/**
 * The dispatch: plans once, then keeps a sliding window of at most `num_parallel_workers` job
 * workflows running. Jobs report back by signal; the dispatch continues as new after starting a
 * batch of jobs so its history stays bounded however many jobs there are.
 */
export async function dispatch(input: DispatchInput): Promise<DispatchResult> {
  const info = workflowInfo();
  // A schedule starts every run with the same input, so it cannot give each run its own id: an
  // empty id means "use the workflow id", which the schedule makes unique by appending the time.
  const dispatchId = input.dispatchId || info.workflowId.replace(/^dispatch-/, '');
  if (!info.typedSearchAttributes.get(DispatchIdKey)) {
    upsertSearchAttributes([{ key: DispatchIdKey, value: dispatchId }]);
  }
  let phase: DispatchPhase = input.state ? 'running' : 'planning';
  let state: DispatchState | undefined = input.state;
  const running = new Map((state?.inFlight ?? []).map((job) => [job.jobIndex, job.workflowId]));

  setHandler(jobFinishedSignal, (report) => {
    // Reports of jobs this dispatch does not count as running (duplicates) change nothing.
    if (!state || !running.delete(report.jobIndex)) return;
    const counts = state.counts;
    counts.succeeded += report.succeeded;
    counts.skipped += report.skipped;
    counts.changedCode += report.changedCode;
    counts.failed += report.failed;
    counts.cancelled += report.cancelled;
    counts.jobsFinished++;
    for (const failure of report.failures)
      if (state.failures.length < FAILURES_KEPT) state.failures.push(failure);
    for (const output of report.dryRunOutputs)
      if (state.dryRunOutputs.length < 20) state.dryRunOutputs.push(output);
    const allowed = allowedFailures(state.tolerance, state.plan.tasks_to_run);
    if (!state.stopReason && counts.failed > allowed) {
      state.stopReason = `${counts.failed} tasks failed, more than the ${allowed} tolerated`;
    }
    showProgress();
  });

  /** The Web UI's "Current Details" of the dispatch: its counts, kept current. */
  function showProgress(): void {
    if (!state) return;
    const { counts, plan } = state;
    const finished =
      counts.succeeded + counts.failed + counts.cancelled + counts.skipped + counts.changedCode;
    setCurrentDetails(
      `${finished} of ${plan.tasks_to_run} tasks finished: ${counts.succeeded} succeeded, ${counts.failed} failed, ${counts.skipped + counts.changedCode} skipped; ${running.size} of ${state.numParallelWorkers} jobs running${state.paused ? ' (paused)' : ''}`,
    );
  }

  const progress = (): DispatchResult => {
    const counts = state?.counts ?? {
      succeeded: 0,
      skipped: 0,
      changedCode: 0,
      failed: 0,
      cancelled: 0,
      jobsFinished: 0,
    };
    const request = input.request;
    return {
      dispatchId,
      phase,
      plan: state?.plan,
      numParallelWorkers:
        state?.numParallelWorkers ?? request?.num_parallel_workers ?? input.retryOf?.numParallelWorkers ?? 0,
      tasksPerJob: state?.tasksPerJob ?? request?.tasks_per_job ?? input.retryOf?.tasksPerJob ?? 1,
      dryRun: state?.dryRun ?? request?.dry_run ?? false,
      force: state?.force ?? request?.force ?? false,
      analysisNames: state?.analysisNames ?? [],
      tolerance: state?.tolerance ?? {},
      paused: state?.paused ?? false,
      retryOf: state?.retryOf ?? input.retryOf?.dispatchId,
      running: running.size,
      jobsStarted: state?.nextJob ?? 0,
      counts,
      tasksFinished:
        counts.succeeded + counts.failed + counts.cancelled + counts.skipped + counts.changedCode,
      failures: state?.failures ?? [],
      startedAt: state?.startedAt ?? Date.now(),
      runs: state?.runs ?? 1,
      ...(state?.stopReason ? { error: state.stopReason } : {}),
      dryRunOutputs: state?.dryRunOutputs ?? [],
    };
  };
  setHandler(progressQuery, () => {
    const { dryRunOutputs: _omitted, ...rest } = progress();
    return rest;
  });
  setHandler(
    resizeUpdate,
    (size) => {
      const previous = state?.numParallelWorkers ?? 0;
      if (state) state.numParallelWorkers = size;
      showProgress();
      return { previous, current: size };
    },
    {
      validator: (size) => {
        if (!Number.isSafeInteger(size) || size < 1)
          throw new Error(`num_parallel_workers must be a whole number >= 1, got ${size}`);
        if (!state) throw new Error('the dispatch is still planning; resize it once it runs');
      },
    },
  );
  setHandler(
    pauseUpdate,
    (paused) => {
      if (state) state.paused = paused;
      showProgress();
      return { paused, running: running.size };
    },
    {
      validator: (_paused: boolean) => {
        if (!state) throw new Error('the dispatch is still planning; pause it once it runs');
      },
    },
  );

  try {
    if (!state) state = await firstRun(input, dispatchId);
    phase = 'running';
    const current = state;
    const limit = input.continueAsNewAfter ?? CONTINUE_AS_NEW_AFTER;
    let startedThisRun = 0;
    let startsPending = 0;
    let startError: unknown;
    const jobsLeft = () => current.nextJob < current.plan.jobs && !current.stopReason;
    const mayStart = () => jobsLeft() && !current.paused && running.size < current.numParallelWorkers;

    // The loop never waits for the server to confirm the starts it asked for: what it starts
    // depends only on the reports it has seen, however the events happened to be batched into
    // workflow tasks, so a replay (on another worker, after a crash) takes the same decisions.
    for (;;) {
      if (startError !== undefined) throw startError;
      const toStart = mayStart()
        ? Math.min(
            current.numParallelWorkers - running.size,
            current.plan.jobs - current.nextJob,
            limit - startedThisRun,
          )
        : 0;
      for (let i = 0; i < toStart; i++) {
        const jobIndex = current.nextJob++;
        startedThisRun++;
        startsPending++;
        startJob(current, jobIndex)
          .catch((err: unknown) => {
            // A job that never started will never report: stop counting it as running.
            running.delete(jobIndex);
            startError ??= err;
          })
          .finally(() => startsPending--);
      }
      if (toStart > 0) showProgress();
      if (!jobsLeft() && running.size === 0) break;
      if (startedThisRun >= limit && jobsLeft()) break;
      if (current.stopReason) phase = 'draining';
      // Wake only when there is something to do: a free slot with jobs left, the end, or a job
      // that could not be started.
      await condition(() => startError !== undefined || mayStart() || (!jobsLeft() && running.size === 0));
    }
    // Continue-as-new or finish only once every start asked for is confirmed (or refused).
    await condition(() => startsPending === 0);
    if (startError !== undefined) throw startError;

    if (jobsLeft()) {
      await condition(allHandlersFinished);
      return await continueAsNew<typeof dispatch>({
        dispatchId,
        state: {
          ...current,
          inFlight: [...running].map(([jobIndex, workflowId]) => ({ jobIndex, workflowId })),
          runs: current.runs + 1,
        },
        continueAsNewAfter: input.continueAsNewAfter,
      });
    }
    const failed = current.counts.failed;
    if (failed > 0 && (current.stopReason || !tolerates(current.tolerance))) {
      phase = 'failed';
      // The dispatch fails when a task failed beyond what it tolerates, so the Web UI and `--wait`
      // tell it at a glance; the details carry the same summary a success returns.
      throw ApplicationFailure.create({
        type: current.stopReason ? 'FailureThresholdExceeded' : 'TasksFailed',
        message: current.stopReason
          ? `${current.stopReason}; ${current.plan.jobs - current.nextJob} jobs were not started`
          : `${failed} of ${current.plan.tasks_to_run} tasks failed`,
        nonRetryable: true,
        details: [progress()],
      });
    }
    phase = failed > 0 ? 'completed_with_failures' : 'completed';
    return progress();
  } catch (err) {
    if (!isCancellation(err)) {
      phase = 'failed';
      throw err;
    }
    phase = 'cancelling';
    // Jobs were started with ABANDON (they must survive continue-as-new), so a cancellation does
    // not reach them by itself: cancel each one still running and wait for its report.
    await CancellationScope.nonCancellable(async () => {
      await Promise.all(
        [...running.values()].map((workflowId) =>
          getExternalWorkflowHandle(workflowId)
            .cancel()
            .catch(() => undefined),
        ),
      );
      await condition(() => running.size === 0, CANCEL_GRACE);
    });
    phase = 'cancelled';
    throw err;
  }

  async function startJob(current: DispatchState, jobIndex: number): Promise<void> {
    const workflowId = `${info.workflowId}-job-${jobIndex}`;
    running.set(jobIndex, workflowId);
    const names = current.analysisNames.join(', ');
    await startChild(analysisJob, {
      workflowId,
      args: [
        {
          dispatchId,
          dispatchWorkflowId: info.workflowId,
          planId: dispatchId,
          jobIndex,
          jobsPerPage: current.plan.jobs_per_page,
          dryRun: current.dryRun,
          force: current.force,
        },
      ],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      typedSearchAttributes: [
        { key: DispatchIdKey, value: dispatchId },
        { key: AnalysisNameKey, value: names },
      ],
      staticSummary: `job ${jobIndex + 1} of ${current.plan.jobs} · ${names}`,
      staticDetails: `Dispatch ${dispatchId}: ${current.plan.tasks_to_run} tasks in ${current.plan.jobs} jobs`,
    });
  }
}

/** Plans a new dispatch, or replans what another dispatch left undone, into the run state. */
async function firstRun(input: DispatchInput, dispatchId: string): Promise<DispatchState> {
  const startedAt = Date.now();
  const base = {
    nextJob: 0,
    inFlight: [],
    counts: { succeeded: 0, skipped: 0, changedCode: 0, failed: 0, cancelled: 0, jobsFinished: 0 },
    failures: [],
    dryRunOutputs: [],
    startedAt,
    runs: 1,
    paused: false,
  };
  if (input.retryOf) {
    const retry = input.retryOf;
    upsertSearchAttributes([{ key: RetryOfKey, value: retry.dispatchId }]);
    const plan: PlanSummary = await planRetry({
      fromPlanId: retry.dispatchId,
      planId: dispatchId,
      tasksPerJob: retry.tasksPerJob,
    });
    return {
      ...base,
      plan,
      numParallelWorkers: retry.numParallelWorkers,
      tasksPerJob: retry.tasksPerJob,
      dryRun: retry.dryRun,
      force: retry.force,
      tolerance: retry.tolerance,
      analysisNames: retry.analysisNames,
      retryOf: retry.dispatchId,
    };
  }
  const request = input.request;
  if (!request)
    throw ApplicationFailure.nonRetryable('dispatch started without a request or state', 'InvalidInput');
  const plan = await planDispatch({ request, planId: dispatchId });
  return {
    ...base,
    plan,
    numParallelWorkers: request.num_parallel_workers,
    tasksPerJob: request.tasks_per_job,
    dryRun: request.dry_run,
    force: request.force,
    tolerance: { percent: request.tolerated_failure_percent, count: request.tolerated_failure_count },
    analysisNames: [...new Set(request.specs.map((spec) => spec.analysis_name))],
  };
}
