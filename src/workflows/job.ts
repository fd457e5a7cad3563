import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  deprecatePatch,
  proxyActivities,
  proxyLocalActivities,
  sleep,
  TimeoutFailure,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { TimeoutType } from '@temporalio/common';
// Activities are imported as types only: workflow code must not load I/O libraries.
import type { Activities } from '../activities';
import { ErrorType } from '../errors';
import { capMessage } from '../problem-list';
import type { ClaimStatus } from '../activities/records';
import type { RunResult } from '../task-record';
import type { Task } from '../types';
import { namedPool, poolTaskQueue } from '../worker-pools';
import { AnalysisNameKey } from './search-attributes';
import { jobFinishedSignal, type JobInput, type JobReport, type TaskFailure } from './messages';

const databaseRetry = { initialInterval: '1 second', maximumInterval: '20 seconds', backoffCoefficient: 2 };

/** A claim of tasks found busy: retried until the database answers again. */
const { claimTasks } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: databaseRetry,
});

/**
 * The same short database steps as local activities: run by the worker that runs the job's
 * workflow task and recorded as a marker, with no task queue round trip. They are retried like
 * the others (past a minute, between workflow tasks, on timers) and are idempotent: a claim by the
 * same owner holds, a commit of an existing record counts as done.
 */
const local = proxyLocalActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: databaseRetry,
});

const BUSY_RETRY = '15 seconds';
/** How many times a task starts over when the worker holding its results disappears. */
const WORKER_LOSSES_TOLERATED = 5;
const FAILURE_SAMPLES = 5;

/** The run step goes to the task queue of the analysis's worker pool, if it names one. */
function runQueue(task: Task): { taskQueue?: string } {
  const pool = namedPool(task.analysis.pool);
  return pool ? { taskQueue: poolTaskQueue(workflowInfo().taskQueue, pool) } : {};
}

/** `attemptsUsed`: attempts spent before a step was sent back to wait for a run slot. */
function runStep(task: Task, attemptsUsed = 0) {
  return proxyActivities<Activities>({
    ...runQueue(task),
    startToCloseTimeout: task.analysis.timeout ?? '2 hours',
    heartbeatTimeout: '1 minute',
    // A cancelled job waits until the analysis program has really stopped.
    cancellationType: 'WAIT_CANCELLATION_COMPLETED' as never,
    retry: {
      maximumAttempts: Math.max(1, (task.analysis.max_attempts ?? 3) - attemptsUsed),
      initialInterval: '2 seconds',
    },
    summary: `run ${task.analysis.analysis_name} ${task.hash.slice(0, 12)}`,
  }).runTask;
}

/**
 * How long a run sent back by a full `max_concurrent` waits before asking again: short at first,
 * so a slot given back is soon taken, then longer, so a long wait adds few events to the history.
 * Spread at random (replayed alike: the workflow's random numbers are seeded), so runs sent back
 * together do not all ask again at the same moment.
 */
function capacityWait(waits: number): number {
  return Math.min(2_000 * 2 ** waits, 30_000) * (0.5 + Math.random());
}

/** The attempts a run step had spent when every slot of its analysis was found held, if it was. */
function atCapacity(err: unknown): { attemptsUsed: number } | undefined {
  if (!(err instanceof ActivityFailure)) return undefined;
  const { cause } = err;
  if (!(cause instanceof ApplicationFailure) || cause.type !== ErrorType.AnalysisAtCapacity) return undefined;
  const details = cause.details?.[0] as { attempts_used?: unknown } | undefined;
  return { attemptsUsed: typeof details?.attempts_used === 'number' ? details.attempts_used : 0 };
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

/** The cause's message, capped: it travels in the job's report and stays in the dispatch's state. */
function describeError(err: unknown): string {
  let current: unknown = err;
  while (current instanceof ActivityFailure && current.cause) current = current.cause;
  return capMessage(current instanceof Error ? current.message : String(current));
}

/**
 * The worker holding a run's files is gone (its queue is not polled), or the files are gone from
 * it: the run has to be done again.
 */
function workerWasLost(err: unknown): boolean {
  if (!(err instanceof ActivityFailure)) return false;
  const { cause } = err;
  return (
    (cause instanceof TimeoutFailure && cause.timeoutType === TimeoutType.SCHEDULE_TO_START) ||
    (cause instanceof ApplicationFailure && cause.type === ErrorType.ResultsLost)
  );
}

/**
 * Runs the tasks of one job, one after another: duplicate check and lock, run, upload on the same
 * worker, record. Returns its counts, and reports them to the dispatch by signal too when it fails
 * or is cancelled, or when its dispatch does not read results (`reportBy`).
 */
export async function analysisJob(input: JobInput): Promise<JobReport> {
  const owner = workflowInfo().workflowId;
  const report: JobReport = {
    job_index: input.jobIndex,
    counts: { succeeded: 0, skipped: 0, changed_code: 0, failed: 0, cancelled: 0 },
    failures: [],
    dry_run_outputs: [],
  };
  const { counts } = report;
  let tasks: Task[] = [];
  let finished = 0;
  // The one shape left. Jobs of the previous version recorded this marker and replay by it; jobs
  // started now record it as deprecated, so a version that no longer checks it still replays
  // them. Jobs of earlier shapes no longer replay: see "Upgrading workers" in the README.
  deprecatePatch('job-shape-2026-12');
  // Locks this job holds: taken by a claim, given back by the task's commit.
  const held = new Set<string>();
  const committed = new Set<string>();
  let completed = false;
  try {
    let first: ClaimStatus[] | undefined;
    ({ tasks, statuses: first } = await local.openJob({
      planId: input.dispatchId,
      jobIndex: input.jobIndex,
      jobsPerPage: input.jobsPerPage,
      owner,
      force: input.force,
      dryRun: input.dryRun,
    }));
    const names = [...new Set(tasks.map((task) => task.analysis.analysis_name))];
    // The dispatch named the analyses of all its jobs; a job running fewer says which.
    const started = workflowInfo().typedSearchAttributes.get(AnalysisNameKey);
    if (started !== names.join(', '))
      upsertSearchAttributes([{ key: AnalysisNameKey, value: names.join(', ') }]);
    let pending = tasks;
    while (pending.length > 0) {
      const statuses =
        first ?? (await claimTasks({ tasks: pending, owner, force: input.force, dryRun: input.dryRun }));
      first = undefined;
      const busy: Task[] = [];
      for (const [i, task] of pending.entries()) {
        const status = statuses[i];
        if (status === 'busy') busy.push(task);
        else if (status === 'done') counts.skipped++;
        else if (status === 'changed_code') counts.changed_code++;
        else {
          if (!input.dryRun) held.add(task.hash);
          if (await runOne(task, input, owner, report)) committed.add(task.hash);
        }
        if (status !== 'busy') finished++;
      }
      pending = busy;
      // Another dispatch is running these tasks right now: wait for it, then look again.
      if (pending.length > 0) await sleep(BUSY_RETRY);
    }
    completed = true;
  } catch (err) {
    // A job stopped before it read its tasks still owes the dispatch their count.
    const unfinished = (tasks.length || input.taskCount) - finished;
    if (isCancellation(err)) counts.cancelled = unfinished;
    else {
      counts.failed += unfinished;
      report.failures.push({ hash: '', asset_name: '', error: `job failed: ${describeError(err)}` });
    }
    throw err;
  } finally {
    await CancellationScope.nonCancellable(async () => {
      // A job that ran to its end gives back the locks of its failed tasks (a commit released the
      // others); one that was stopped part-way may hold locks it never heard of, so it gives back
      // every task's lock it did not commit (only locks it owns are touched).
      const release = completed
        ? [...held].filter((hash) => !committed.has(hash))
        : tasks.map((task) => task.hash).filter((hash) => !committed.has(hash));
      if (release.length > 0 && !input.dryRun) await local.releaseTasks({ hashes: release, owner });
      // A signal costs the server about as much as the rest of a one-task job: a job that ran to
      // its end leaves its report to its result when the dispatch reads results.
      if (!(completed && input.reportBy === 'result'))
        await getExternalWorkflowHandle(input.dispatchWorkflowId).signal(jobFinishedSignal, report);
    });
  }
  return report;
}

/** Runs one task to its record; true when the record was committed (which releases its lock). */
async function runOne(task: Task, input: JobInput, owner: string, report: JobReport): Promise<boolean> {
  let attemptsUsed = 0;
  let waits = 0;
  for (let attempt = 0; ; attempt++) {
    let run: RunResult | undefined;
    try {
      // The run uploads its own results and writes the record when it can (two steps less per
      // task); what it could not do follows as a step of its own. A dry run keeps nothing.
      const runTask = runStep(task, attemptsUsed);
      run = await runTask({
        task,
        dispatchId: input.dispatchId,
        ...(input.dryRun ? {} : { upload: true, commit: { owner, force: input.force } }),
      });
      if (input.dryRun) {
        if (report.dry_run_outputs.length < FAILURE_SAMPLES)
          report.dry_run_outputs.push({ hash: task.hash, outputs: run.outputs });
        await onWorker(run.workerQueue)
          .discardResults({ workDir: run.workDir })
          .catch(() => undefined);
        report.counts.succeeded++;
        return false;
      }
      if (!run.uploaded)
        await onWorker(run.workerQueue).uploadResults({ task, run, dispatchId: input.dispatchId });
      if (!run.committed)
        await local.commitTask({
          task,
          run,
          dispatchId: input.dispatchId,
          owner,
          force: input.force,
        });
      report.counts.succeeded++;
      return true;
    } catch (err) {
      if (isCancellation(err)) throw err;
      // Every run slot of the analysis is held: wait here, on a timer, and ask again (run.ts says
      // why here). Histories made before caps existed hold no such failure, so they replay alike.
      const full = run ? undefined : atCapacity(err);
      if (full) {
        attemptsUsed += full.attemptsUsed;
        await sleep(capacityWait(waits++));
        attempt--;
        continue;
      }
      if (run && workerWasLost(err) && attempt < WORKER_LOSSES_TOLERATED) {
        log.warn('the worker holding the results, or the results, are gone; running the task again', {
          dispatch_id: input.dispatchId,
          task: task.hash,
        });
        continue;
      }
      report.counts.failed++;
      const failure: TaskFailure = {
        hash: task.hash,
        // A group's names can be thousands long; the failure travels in the report and the state.
        asset_name: capMessage(task.input.asset_name.join(',')),
        error: describeError(err),
      };
      if (report.failures.length < FAILURE_SAMPLES) report.failures.push(failure);
      log.error('task failed', {
        dispatch_id: input.dispatchId,
        task: failure.hash,
        asset_name: failure.asset_name,
        error: failure.error,
      });
      return false;
    }
  }
}
