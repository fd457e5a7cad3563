import type { BenchContext } from './context';
import { measureDispatch, type DispatchSummary } from './p1-throughput';
import type { WorkerProcess } from './processes';

export interface ScaleResult {
  requestedTasks: number;
  tasksPerJob: number;
  budgetSeconds: number;
  dispatch: DispatchSummary;
  /** At the measured rate, how long the 100,000 tasks would take. */
  hoursFor100k: number;
  maxEvents: number;
  maxPayloadBytes: number;
  maxEventBytes: number;
  dispatchRunEvents: number[];
  maxJobEvents: number;
  /** Events a job's history gains per task, and the tasks_per_job at which a job reaches 10,000. */
  jobEventsPerTask: number;
  tasksPerJobAt10kEvents: number;
  /** Dispatch worker: peak resident set of its whole life (VmHWM) and the highest sample during this run. */
  workerPeakRss: number;
  workerPeakRssDuringRun: number;
  workerRssAtStart: number;
}

/**
 * P3: the largest dispatch that fits the time left, batched `tasksPerJob` to a job, with its
 * histories, payload sizes and the dispatch worker's memory.
 */
export async function benchScale(
  ctx: BenchContext,
  worker: WorkerProcess,
  options: {
    tasks: number;
    tasksPerJob: number;
    window: number;
    budgetSeconds: number;
    workerRssAtStart: number;
  },
): Promise<ScaleResult> {
  const startedAt = Date.now();
  const { summary } = await measureDispatch(ctx, {
    set: 'p3',
    tasks: options.tasks,
    tasksPerJob: options.tasksPerJob,
    window: options.window,
  });
  const memory = await worker.memory();
  const during = memory.samples
    .filter((sample) => sample.t >= startedAt)
    .reduce((most, sample) => Math.max(most, sample.rss), 0);
  const { histories } = summary;
  const jobTasks = options.tasksPerJob;
  const jobEventsPerTask = histories.jobEvents / jobTasks;
  return {
    requestedTasks: options.tasks,
    tasksPerJob: options.tasksPerJob,
    budgetSeconds: options.budgetSeconds,
    dispatch: summary,
    hoursFor100k: 100_000 / summary.tasksPerSecond / 3600,
    maxEvents: histories.maxEvents,
    maxPayloadBytes: histories.maxPayloadBytes,
    maxEventBytes: histories.maxEventBytes,
    dispatchRunEvents: histories.runs.map((run) => run.events),
    maxJobEvents: Math.max(...histories.jobs.map((job) => job.events)),
    jobEventsPerTask,
    tasksPerJobAt10kEvents: Math.floor(10_000 / jobEventsPerTask),
    workerPeakRss: memory.peakRss,
    workerPeakRssDuringRun: during,
    workerRssAtStart: options.workerRssAtStart,
  };
}
