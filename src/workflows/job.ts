import {
  ActivityFailure,
  CancellationScope,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  proxyActivities,
  sleep,
  TimeoutFailure,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { TimeoutType } from '@temporalio/common';
// Activities are imported as types only: workflow code must not load I/O libraries.
import type { Activities } from '../activities';
import type { RunResult } from '../records';
import type { Task } from '../types';
import { AnalysisNameKey } from './search-attributes';
import { jobFinishedSignal, type JobInput, type JobReport, type TaskFailure } from './messages';

/** Short database and plan steps: retried until the database answers again. */
const { loadJob, claimTasks, commitTask, releaseTasks } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '20 seconds', backoffCoefficient: 2 },
});

const BUSY_RETRY = '15 seconds';
/** How many times a task starts over when the worker holding its results disappears. */
const WORKER_LOSSES_TOLERATED = 5;
const FAILURE_SAMPLES = 5;

function runStep(task: Task) {
  return proxyActivities<Activities>({
    startToCloseTimeout: task.analysis.timeout ?? '2 hours',
    heartbeatTimeout: '1 minute',
    // A cancelled job waits until the analysis program has really stopped.
    cancellationType: 'WAIT_CANCELLATION_COMPLETED' as never,
    retry: { maximumAttempts: task.analysis.max_attempts ?? 3, initialInterval: '2 seconds' },
    summary: `run ${task.analysis.analysis_name} ${task.hash.slice(0, 12)}`,
  }).runTask;
}

/** Activities on the queue of the one worker that holds a run's files. */
function onWorker(queue: string) {
  return proxyActivities<Activities>({
    taskQueue: queue,
    // A worker that died never picks its queue up again: give up quickly and rerun elsewhere.
    scheduleToStartTimeout: '1 minute',
    startToCloseTimeout: '30 minutes',
    heartbeatTimeout: '2 minutes',
    retry: { initialInterval: '1 second', maximumInterval: '20 seconds' },
  });
}

function describeError(err: unknown): string {
  let current: unknown = err;
  while (current instanceof ActivityFailure && current.cause) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}

function workerWasLost(err: unknown): boolean {
  return (
    err instanceof ActivityFailure &&
    err.cause instanceof TimeoutFailure &&
    err.cause.timeoutType === TimeoutType.SCHEDULE_TO_START
  );
}

/**
 * Runs the tasks of one job, one after another: duplicate check and lock, run, upload on the same
 * worker, record. Reports its counts to the dispatch by signal whatever happens, because the
 * dispatch does not wait on its children (they outlive its continue-as-new runs).
 */
export async function analysisJob(input: JobInput): Promise<JobReport> {
  const owner = workflowInfo().workflowId;
  const report: JobReport = {
    jobIndex: input.jobIndex,
    succeeded: 0,
    skipped: 0,
    changedCode: 0,
    failed: 0,
    cancelled: 0,
    failures: [],
    dryRunOutputs: [],
  };
  let tasks: Task[] = [];
  let finished = 0;
  try {
    tasks = await loadJob({ planId: input.planId, jobIndex: input.jobIndex, jobsPerPage: input.jobsPerPage });
    const names = [...new Set(tasks.map((task) => task.analysis.analysis_name))];
    upsertSearchAttributes([{ key: AnalysisNameKey, value: names.join(', ') }]);
    let pending = tasks;
    while (pending.length > 0) {
      const statuses = await claimTasks({ tasks: pending, owner, force: input.force, dryRun: input.dryRun });
      const busy: Task[] = [];
      for (const [i, task] of pending.entries()) {
        const status = statuses[i];
        if (status === 'busy') busy.push(task);
        else if (status === 'done') report.skipped++;
        else if (status === 'changed_code') report.changedCode++;
        else await runOne(task, input, owner, report);
        if (status !== 'busy') finished++;
      }
      pending = busy;
      // Another dispatch is running these tasks right now: wait for it, then look again.
      if (pending.length > 0) await sleep(BUSY_RETRY);
    }
  } catch (err) {
    if (isCancellation(err)) report.cancelled = tasks.length - finished;
    else {
      report.failed += tasks.length - finished;
      report.failures.push({ hash: '', asset_name: '', error: `job failed: ${describeError(err)}` });
    }
    throw err;
  } finally {
    await CancellationScope.nonCancellable(async () => {
      if (tasks.length > 0 && !input.dryRun)
        await releaseTasks({ hashes: tasks.map((task) => task.hash), owner });
      await getExternalWorkflowHandle(input.dispatchWorkflowId).signal(jobFinishedSignal, report);
    });
  }
  return report;
}

async function runOne(task: Task, input: JobInput, owner: string, report: JobReport): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    let run: RunResult | undefined;
    try {
      run = await runStep(task)({ task, dispatchId: input.dispatchId });
      if (input.dryRun) {
        if (report.dryRunOutputs.length < FAILURE_SAMPLES)
          report.dryRunOutputs.push({ hash: task.hash, outputs: run.outputs });
        await onWorker(run.workerQueue)
          .discardResults({ workDir: run.workDir })
          .catch(() => undefined);
        report.succeeded++;
        return;
      }
      await onWorker(run.workerQueue).uploadResults({ task, run, dispatchId: input.dispatchId });
      await commitTask({ task, run, dispatchId: input.dispatchId, owner, force: input.force });
      report.succeeded++;
      return;
    } catch (err) {
      if (isCancellation(err)) throw err;
      if (run && workerWasLost(err) && attempt < WORKER_LOSSES_TOLERATED) {
        log.warn('worker holding the results is gone; running the task again', {
          dispatch_id: input.dispatchId,
          task: task.hash,
        });
        continue;
      }
      report.failed++;
      const failure: TaskFailure = {
        hash: task.hash,
        asset_name: task.input.asset_name.join(','),
        error: describeError(err),
      };
      if (report.failures.length < FAILURE_SAMPLES) report.failures.push(failure);
      log.error('task failed', {
        dispatch_id: input.dispatchId,
        task: failure.hash,
        asset_name: failure.asset_name,
        error: failure.error,
      });
      return;
    }
  }
}
