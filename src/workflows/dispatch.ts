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
import type { PlanSummary } from '../types';
import {
  applyReport,
  detailsLine,
  ending,
  isPlanned,
  jobsLeft,
  jobsToStart,
  jobTaskCount,
  progressView,
  runningJobs,
  startState,
} from './dispatch-rules';
import { analysisJob } from './job';
import { decodeDispatchInput, decodeJobReport, type DispatchInputOfAnyVersion } from './legacy-input';
import {
  jobFinishedSignal,
  pauseUpdate,
  progressQuery,
  resizeUpdate,
  type DispatchInput,
  type DispatchResult,
  type DispatchState,
  type PlannedState,
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
  const progress = () => progressView(dispatchId, state);
  const showProgress = handleMessages(dispatchId, state);

  try {
    const current = isPlanned(state)
      ? state
      : Object.assign(state, { plan: await plan(input, dispatchId), phase: 'running' as const });
    const limit = input.continue_as_new_after ?? CONTINUE_AS_NEW_AFTER;
    let startedThisRun = 0;
    let startsPending = 0;
    let startError: unknown;
    const toStart = () => jobsToStart(current, limit - startedThisRun);
    const allDone = () => !jobsLeft(current) && runningJobs(current) === 0;

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
        startJob(current, jobIndex, dispatchId)
          .catch((err: unknown) => {
            // A job that never started will never report: stop counting it as running.
            delete current.running[jobIndex];
            startError ??= err;
          })
          .finally(() => startsPending--);
      }
      if (count > 0) showProgress();
      if (allDone()) break;
      if (startedThisRun >= limit && jobsLeft(current)) break;
      if (current.stop_reason) current.phase = 'draining';
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
        dispatchId,
        state: { ...current, runs: current.runs + 1 },
        continue_as_new_after: input.continue_as_new_after,
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
    return progress();
  } catch (err) {
    if (!isCancellation(err)) {
      state.phase = 'failed';
      throw err;
    }
    state.phase = 'cancelling';
    await cancelRunningJobs(state);
    state.phase = 'cancelled';
    throw err;
  }
}

/**
 * The dispatch's messages, all answered from its state: a job's report, the progress query, resize
 * and pause. Returns the update of the Web UI's details line, which the window loop calls too.
 */
function handleMessages(dispatchId: string, state: DispatchState): () => void {
  const showProgress = () => {
    if (isPlanned(state)) setCurrentDetails(detailsLine(state));
  };
  const refuseWhilePlanning = (what: string): void => {
    if (!isPlanned(state)) throw new Error(`the dispatch is still planning; ${what} it once it runs`);
  };

  setHandler(jobFinishedSignal, (message) => {
    const report = decodeJobReport(message);
    // Reports of jobs this dispatch does not count as running (duplicates) change nothing.
    if (!isPlanned(state) || !(report.job_index in state.running)) return;
    delete state.running[report.job_index];
    applyReport(state, report);
    showProgress();
  });
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
  return showProgress;
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

async function startJob(state: PlannedState, jobIndex: number, dispatchId: string): Promise<void> {
  const dispatchWorkflowId = workflowInfo().workflowId;
  const workflowId = jobWorkflowId(dispatchWorkflowId, jobIndex);
  state.running[jobIndex] = workflowId;
  const names = state.analysis_names.join(', ');
  await startChild(analysisJob, {
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
}

/**
 * Jobs started by earlier runs (before a continue-as-new) are no children of this run, and ABANDON
 * (they must survive continue-as-new) keeps the server from passing a cancellation on: cancel every
 * job still running by its id, and wait for its report.
 */
async function cancelRunningJobs(state: DispatchState): Promise<void> {
  await CancellationScope.nonCancellable(async () => {
    await Promise.all(
      Object.values(state.running).map((workflowId) =>
        getExternalWorkflowHandle(workflowId)
          .cancel()
          .catch(() => undefined),
      ),
    );
    await condition(() => runningJobs(state) === 0, CANCEL_GRACE);
  });
}
