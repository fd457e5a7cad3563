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
import { dispatchIdOf, jobWorkflowId } from '../workflow-ids';
import {
  applyReport,
  decodeDispatchInput,
  detailsLine,
  ending,
  initialState,
  jobsLeft,
  jobsToStart,
  jobTaskCount,
  progressView,
  startOf,
  type LegacyDispatchInput,
} from './dispatch-rules';
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
} from './messages';
import { AnalysisNameKey, DispatchIdKey, RetryOfKey } from './search-attributes';

const { planDispatch, planRetry } = proxyActivities<Activities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', maximumInterval: '30 seconds', maximumAttempts: 20 },
  summary: 'plan: select assets, find files, store jobs',
});

const CONTINUE_AS_NEW_AFTER = 400;
const CANCEL_GRACE = '10 minutes';

/**
 * The dispatch: plans once, then keeps a sliding window of at most `num_parallel_workers` job
 * workflows running. Jobs report back by signal; the dispatch continues as new after starting a
 * batch of jobs so its history stays bounded however many jobs there are.
 */
export async function dispatch(raw: DispatchInput | LegacyDispatchInput): Promise<DispatchResult> {
  const input = decodeDispatchInput(raw);
  const info = workflowInfo();
  // A schedule starts every run with the same input, so it cannot give each run its own id: an
  // empty id means "use the workflow id", which the schedule makes unique by appending the time.
  const dispatchId = input.dispatch_id || dispatchIdOf(info.workflowId);
  if (!info.typedSearchAttributes.get(DispatchIdKey)) {
    upsertSearchAttributes([{ key: DispatchIdKey, value: dispatchId }]);
  }
  const start = startOf(input);
  let state: DispatchState | undefined = input.kind === 'continued' ? input.state : undefined;
  let phase: DispatchPhase = state ? 'running' : 'planning';
  const running = new Map((state?.in_flight ?? []).map((job) => [job.job_index, job.workflow_id]));

  const progress = (): DispatchResult =>
    progressView({
      dispatchId,
      phase,
      state,
      start,
      retryOf: input.kind === 'retry' ? input.retry_of : undefined,
      running: running.size,
      now: Date.now(),
    });
  const showProgress = () => state && setCurrentDetails(detailsLine(state, running.size));
  const refuseWhilePlanning = (what: string): void => {
    if (!state) throw new Error(`the dispatch is still planning; ${what} it once it runs`);
  };

  setHandler(jobFinishedSignal, (report) => {
    // Reports of jobs this dispatch does not count as running (duplicates) change nothing.
    if (!state || !running.delete(report.jobIndex)) return;
    applyReport(state, report);
    showProgress();
  });
  setHandler(progressQuery, () => {
    const { dry_run_outputs: _omitted, ...rest } = progress();
    return rest;
  });
  setHandler(
    resizeUpdate,
    (size) => {
      const previous = state?.settings.num_parallel_workers ?? 0;
      if (state) state.settings.num_parallel_workers = size;
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
      if (state) state.paused = paused;
      showProgress();
      return { paused, running: running.size };
    },
    { validator: (_paused: boolean) => refuseWhilePlanning('pause') },
  );

  try {
    if (!state) state = await plan();
    phase = 'running';
    const current = state;
    const limit = input.continue_as_new_after ?? CONTINUE_AS_NEW_AFTER;
    let startedThisRun = 0;
    let startsPending = 0;
    let startError: unknown;
    const toStart = () => jobsToStart(current, running.size, limit - startedThisRun);
    const allDone = () => !jobsLeft(current) && running.size === 0;

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
        startJob(current, jobIndex)
          .catch((err: unknown) => {
            // A job that never started will never report: stop counting it as running.
            running.delete(jobIndex);
            startError ??= err;
          })
          .finally(() => startsPending--);
      }
      if (count > 0) showProgress();
      if (allDone()) break;
      if (startedThisRun >= limit && jobsLeft(current)) break;
      if (current.stop_reason) phase = 'draining';
      // Wake only when there is something to do: a free slot with jobs left, the end, or a job
      // that could not be started.
      await condition(() => startError !== undefined || toStart() > 0 || allDone());
    }
    // Continue-as-new or finish only once every start asked for is confirmed (or refused).
    await condition(() => startsPending === 0);
    if (startError !== undefined) throw startError;

    if (jobsLeft(current)) {
      await condition(allHandlersFinished);
      return await continueAsNew<typeof dispatch>({
        kind: 'continued',
        dispatch_id: dispatchId,
        state: {
          ...current,
          in_flight: [...running].map(([job_index, workflow_id]) => ({ job_index, workflow_id })),
          runs: current.runs + 1,
        },
        continue_as_new_after: input.continue_as_new_after,
      });
    }
    const end = ending(current);
    phase = end.phase;
    // The dispatch fails when a task failed beyond what it tolerates, so the Web UI and `--wait`
    // tell it at a glance; the details carry the same summary a success returns.
    if (end.phase === 'failed')
      throw ApplicationFailure.create({
        type: end.type,
        message: end.message,
        nonRetryable: true,
        details: [progress()],
      });
    return progress();
  } catch (err) {
    if (!isCancellation(err)) {
      phase = 'failed';
      throw err;
    }
    phase = 'cancelling';
    // Jobs started by earlier runs (before a continue-as-new) are no children of this run, and
    // ABANDON (they must survive continue-as-new) keeps the server from passing a cancellation
    // on: cancel every job still running by its id, and wait for its report.
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

  /** Plans a new dispatch, or replans what another dispatch left undone. */
  async function plan(): Promise<DispatchState> {
    const startedAt = Date.now();
    if (input.kind === 'retry') {
      upsertSearchAttributes([{ key: RetryOfKey, value: input.retry_of }]);
      const summary = await planRetry({
        fromPlanId: input.retry_of,
        planId: dispatchId,
        tasksPerJob: input.settings.tasks_per_job,
      });
      return initialState(summary, start, startedAt, input.retry_of);
    }
    if (input.kind === 'continued') throw new Error('a continued dispatch does not plan');
    // Either way the same activity is scheduled: histories of runs that carried their request
    // replay unchanged.
    const planned =
      input.kind === 'stored'
        ? await planDispatch({ requestId: input.request_id, planId: dispatchId })
        : await planDispatch({ request: input.request, planId: dispatchId });
    return initialState(planned, start, startedAt);
  }

  async function startJob(current: DispatchState, jobIndex: number): Promise<void> {
    const workflowId = jobWorkflowId(info.workflowId, jobIndex);
    running.set(jobIndex, workflowId);
    const names = current.analysis_names.join(', ');
    await startChild(analysisJob, {
      workflowId,
      args: [
        {
          dispatchId,
          dispatchWorkflowId: info.workflowId,
          planId: dispatchId,
          jobIndex,
          jobsPerPage: current.plan.jobs_per_page,
          dryRun: current.settings.dry_run,
          force: current.settings.force,
          taskCount: jobTaskCount(current, jobIndex),
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
