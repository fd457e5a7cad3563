import { Context } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { Activities } from '../../../src/activities';
import type { ClaimStatus } from '../../../src/activities/records';
import type { RunResult } from '../../../src/task-record';
import type { PlanSummary, Task } from '../../../src/types';

/** Every activity the worker registers; tsc fails here when one is added or renamed. */
const ACTIVITY_NAMES: Record<keyof Activities, true> = {
  planDispatch: true,
  planRetry: true,
  loadJob: true,
  claimTasks: true,
  openJob: true,
  commitTask: true,
  releaseTasks: true,
  runTask: true,
  uploadResults: true,
  discardResults: true,
  closedJobs: true,
  notifyDispatchEnd: true,
};

/** An activity that fails at once and for good: a workflow reaching it ends instead of retrying. */
const notStubbed = (name: string) => async (): Promise<never> => {
  throw ApplicationFailure.create({
    type: 'NotStubbed',
    message: `not stubbed: ${name}`,
    nonRetryable: true,
  });
};

/** The activities a test gives, and for every other one a stub failing with "not stubbed: <name>". */
export function stubActivities(overrides: Partial<Activities>): Activities {
  const stubs = Object.fromEntries(Object.keys(ACTIVITY_NAMES).map((name) => [name, notStubbed(name)]));
  return { ...(stubs as unknown as Activities), ...overrides };
}

/** Every activity, each calling the one of that name that `pick` chooses when it is called. */
export function routeActivities(pick: <K extends keyof Activities>(name: K) => Activities[K]): Activities {
  const routed = Object.fromEntries(
    Object.keys(ACTIVITY_NAMES).map((name) => [
      name,
      (...args: unknown[]) => (pick(name as keyof Activities) as (...args: unknown[]) => unknown)(...args),
    ]),
  );
  return routed as unknown as Activities;
}

/** A task with one attempt per run, so a failing stub fails the task at once. */
export function fakeTask(hash: string): Task {
  return {
    hash,
    analysis: {
      analysis_name: 'Stubbed',
      analysis_version: '1',
      analysis_libraries: [],
      analysis_parameters: {},
      s3_output_bucket: 'results',
      max_attempts: 1,
    },
    parameters: {},
    input: {
      s3_location: [`s3://assets/${hash}`],
      asset_name: [`asset-${hash}`],
      docdb_record_id: [hash],
      file_location: [],
    },
    libraries: {},
    location: `s3://results/${hash}`,
  };
}

/** Jobs of `tasksPerJob` fake tasks each, hashed `t0`, `t1`, ... in plan order. */
export function fakeJobs(jobs: number, tasksPerJob = 1): Task[][] {
  return Array.from({ length: jobs }, (_, job) =>
    Array.from({ length: tasksPerJob }, (_, i) => fakeTask(`t${job * tasksPerJob + i}`)),
  );
}

export function planOf(jobs: Task[][]): PlanSummary {
  const tasks = jobs.flat().length;
  return {
    plan_id: 'stubbed',
    assets: tasks,
    assets_without_location: 0,
    assets_without_files: 0,
    tasks_total: tasks,
    tasks_new: tasks,
    tasks_done: 0,
    tasks_changed_code: 0,
    tasks_to_run: tasks,
    jobs: jobs.length,
    jobs_per_page: 100,
    warnings: [],
  };
}

/**
 * The plan and database steps of a dispatch over these jobs: every task claimed as `statusOf`
 * says (to run, by default); commits and releases succeed and are logged by task hash.
 */
export function plannedJobs(jobs: Task[][], statusOf: (task: Task) => ClaimStatus = () => 'run') {
  const committed: string[] = [];
  const released: string[][] = [];
  const activities = {
    planDispatch: async () => planOf(jobs),
    openJob: async (input: { jobIndex: number }) => {
      const tasks = jobs[input.jobIndex] ?? [];
      return { tasks, statuses: tasks.map(statusOf) };
    },
    commitTask: async (input: { task: Task }) => {
      committed.push(input.task.hash);
      return 'written' as const;
    },
    releaseTasks: async (input: { hashes: string[] }) => {
      released.push(input.hashes);
    },
  } satisfies Partial<Activities>;
  return { activities, committed, released };
}

/** What a run step hands on: its results, in a folder named after the task, on this test worker. */
export function fakeRun(task: Task): RunResult {
  const now = new Date().toISOString();
  return {
    workerQueue: Context.current().info.taskQueue,
    workDir: `/work/${task.hash}`,
    outputs: { hash: task.hash },
    result_files: { count: 0, sha256: '' },
    code: {},
    worker_host: 'test',
    started_at: now,
    finished_at: now,
  };
}

/**
 * What the stubbed run steps saw: tasks in the order their runs started, how many ran at once,
 * how many were cancelled, and whose results were uploaded or discarded.
 */
export interface RunLog {
  ran: string[];
  active: number;
  maxActive: number;
  cancelled: number;
  uploaded: string[];
  discarded: string[];
}

/**
 * The run, upload and discard steps of an analysis that succeeds, except for the tasks `fails`
 * names; `during` runs inside the run step (to block it, or to wait for other runs).
 */
export function analysisRuns(
  options: { fails?: (hash: string) => boolean; during?: (task: Task, log: RunLog) => Promise<void> } = {},
) {
  const log: RunLog = { ran: [], active: 0, maxActive: 0, cancelled: 0, uploaded: [], discarded: [] };
  const activities = {
    runTask: async ({ task }: { task: Task }) => {
      log.ran.push(task.hash);
      log.maxActive = Math.max(log.maxActive, ++log.active);
      try {
        await options.during?.(task, log);
        if (options.fails?.(task.hash)) throw analysisFailed(task.hash);
        return fakeRun(task);
      } finally {
        log.active--;
      }
    },
    uploadResults: async ({ task }: { task: Task }) => {
      log.uploaded.push(task.hash);
      return { objects: 1, bytes: 0 };
    },
    discardResults: async ({ workDir }: { workDir: string }) => {
      log.discarded.push(workDir.replace('/work/', ''));
    },
  } satisfies Partial<Activities>;
  return { activities, log };
}

/** A run step that fails for good, as an analysis that raised does after its last attempt. */
export function analysisFailed(hash: string): ApplicationFailure {
  return ApplicationFailure.create({ type: 'AnalysisFailed', message: `${hash} failed`, nonRetryable: true });
}

/**
 * Waits for `release` while heartbeating, as a running analysis does; a cancellation of the
 * activity ends the wait with the cancellation, which `cancelled` then counts.
 */
export async function blockUntil(release: Promise<void>, log?: RunLog): Promise<void> {
  const context = Context.current();
  const beat = setInterval(() => context.heartbeat(), 50);
  try {
    await Promise.race([release, context.cancelled]);
  } catch (err) {
    if (log && err instanceof CancelledFailure) log.cancelled++;
    throw err;
  } finally {
    clearInterval(beat);
  }
}
