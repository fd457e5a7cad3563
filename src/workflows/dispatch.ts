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
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { analysisJob } from './job';
import {
  jobFinishedSignal,
  progressQuery,
  type DispatchInput,
  type DispatchPhase,
  type DispatchResult,
  type DispatchState,
} from './messages';
import { AnalysisNameKey, DispatchIdKey } from './search-attributes';

const { planDispatch } = proxyActivities<Activities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', maximumInterval: '30 seconds', maximumAttempts: 20 },
  summary: 'plan: select assets, find files, store jobs',
});

const CONTINUE_AS_NEW_AFTER = 400;
const FAILURES_KEPT = 50;
const CANCEL_GRACE = '10 minutes';

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
    for (const failure of report.failures) if (state.failures.length < FAILURES_KEPT) state.failures.push(failure);
    for (const output of report.dryRunOutputs) if (state.dryRunOutputs.length < 20) state.dryRunOutputs.push(output);
  });

  const progress = (): DispatchResult => {
    const counts = state?.counts ?? { succeeded: 0, skipped: 0, changedCode: 0, failed: 0, cancelled: 0, jobsFinished: 0 };
    const plan = state?.plan;
    return {
      dispatchId,
      phase,
      plan,
      numParallelWorkers: state?.numParallelWorkers ?? input.request?.num_parallel_workers ?? 0,
      running: running.size,
      jobsStarted: state?.nextJob ?? 0,
      counts,
      tasksFinished: counts.succeeded + counts.failed + counts.cancelled + counts.skipped + counts.changedCode,
      failures: state?.failures ?? [],
      startedAt: state?.startedAt ?? Date.now(),
      runs: state?.runs ?? 1,
      dryRunOutputs: state?.dryRunOutputs ?? [],
    };
  };
  setHandler(progressQuery, () => {
    const { dryRunOutputs: _omitted, ...rest } = progress();
    return rest;
  });

  try {
    if (!state) {
      const request = input.request;
      if (!request) throw ApplicationFailure.nonRetryable('dispatch started without a request or state', 'InvalidInput');
      const startedAt = Date.now();
      const plan = await planDispatch({ request, planId: dispatchId });
      state = {
        plan,
        numParallelWorkers: request.num_parallel_workers,
        dryRun: request.dry_run,
        force: request.force,
        analysisNames: [...new Set(request.specs.map((spec) => spec.analysis_name))],
        nextJob: 0,
        inFlight: [],
        counts: { succeeded: 0, skipped: 0, changedCode: 0, failed: 0, cancelled: 0, jobsFinished: 0 },
        failures: [],
        dryRunOutputs: [],
        startedAt,
        runs: 1,
      };
      phase = 'running';
    }
    const current = state;
    const limit = input.continueAsNewAfter ?? CONTINUE_AS_NEW_AFTER;
    let startedThisRun = 0;

    for (;;) {
      const room = current.numParallelWorkers - running.size;
      const toStart = Math.min(room, current.plan.jobs - current.nextJob, limit - startedThisRun);
      if (toStart > 0) {
        const indexes = Array.from({ length: toStart }, (_, i) => current.nextJob + i);
        current.nextJob += toStart;
        startedThisRun += toStart;
        await Promise.all(indexes.map((jobIndex) => startJob(jobIndex)));
      }
      if (current.nextJob >= current.plan.jobs && running.size === 0) break;
      if (startedThisRun >= limit && current.nextJob < current.plan.jobs) break;
      // Wake only when there is something to do: a free slot with jobs left, or the end.
      await condition(
        () =>
          (running.size < current.numParallelWorkers && current.nextJob < current.plan.jobs) ||
          (current.nextJob >= current.plan.jobs && running.size === 0),
      );
    }

    if (current.nextJob < current.plan.jobs) {
      await condition(allHandlersFinished);
      return await continueAsNew<typeof dispatch>({
        dispatchId,
        state: { ...current, inFlight: [...running].map(([jobIndex, workflowId]) => ({ jobIndex, workflowId })), runs: current.runs + 1 },
        continueAsNewAfter: input.continueAsNewAfter,
      });
    }
    if (current.counts.failed > 0) {
      phase = 'failed';
      // The dispatch fails when a task failed, so the Web UI and `--wait` tell it at a glance;
      // the details carry the same summary a success returns.
      throw ApplicationFailure.create({
        type: 'TasksFailed',
        message: `${current.counts.failed} of ${current.plan.tasks_to_run} tasks failed`,
        nonRetryable: true,
        details: [progress()],
      });
    }
    phase = 'completed';
    return progress();
  } catch (err) {
    if (!isCancellation(err)) {
      if (phase !== 'failed') phase = 'failed';
      throw err;
    }
    phase = 'cancelling';
    // Jobs were started with ABANDON (they must survive continue-as-new), so a cancellation does
    // not reach them by itself: cancel each one still running and wait for its report.
    await CancellationScope.nonCancellable(async () => {
      await Promise.all(
        [...running.values()].map((workflowId) => getExternalWorkflowHandle(workflowId).cancel().catch(() => undefined)),
      );
      await condition(() => running.size === 0, CANCEL_GRACE);
    });
    phase = 'cancelled';
    throw err;
  }

  async function startJob(jobIndex: number): Promise<void> {
    const current = state!;
    const workflowId = `${info.workflowId}-job-${jobIndex}`;
    running.set(jobIndex, workflowId);
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
        { key: AnalysisNameKey, value: current.analysisNames.join(', ') },
      ],
      staticSummary: `job ${jobIndex + 1} of ${current.plan.jobs} · ${current.analysisNames.join(', ')}`,
      staticDetails: `Dispatch ${dispatchId}: ${current.plan.tasks_to_run} tasks in ${current.plan.jobs} jobs`,
    });
  }
}
