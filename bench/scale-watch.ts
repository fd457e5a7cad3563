/**
 * Measures a running dispatch as P3 does, from outside the bench: waits for it to end (or, with
 * `--now`, does not), then reads its times and histories from the server and the peak memory of
 * the worker running it from /proc. For a run of hours (P3 at 100,000 tasks), which must not depend
 * on the process that started it staying up: the dispatch and its worker go on whatever happens
 * to that process. Also reads when every tenth job closed, for the rate over the run.
 *   eval "$(./temporal-dev.sh env)"
 *   npx tsx bench/scale-watch.ts --dispatch bench-<id>-p3 --worker_pid <pid> --out bench/results-100k.json
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { connectClient } from '../src/temporal';
import type { Client } from '@temporalio/client';
import { dispatchWorkflowId, jobWorkflowId } from '../src/workflow-ids';
import { progressQuery } from '../src/workflows/messages';
import { dispatchHistories } from './dispatch-histories';

const HISTORY_SAMPLE = 10;
const LOOK_EVERY_MS = 30_000;

/** Peak resident set (VmHWM) and current one (VmRSS) of a process, in bytes. */
function memoryOf(pid: number): { peak: number; now: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { peak: kib('VmHWM') * 1024, now: kib('VmRSS') * 1024 };
}

/** When every tenth job closed, seconds after the first job's start, for the rate along the run. */
async function jobCloses(
  client: Client,
  workflowId: string,
  jobs: number,
): Promise<Array<{ job: number; closedAfterSeconds: number }>> {
  const first = await client.workflow.getHandle(jobWorkflowId(workflowId, 0)).describe();
  const closes: Array<{ job: number; closedAfterSeconds: number }> = [];
  for (let job = 0; job < jobs; job += 10) {
    const { closeTime } = await client.workflow.getHandle(jobWorkflowId(workflowId, job)).describe();
    if (closeTime)
      closes.push({
        job,
        closedAfterSeconds: round((closeTime.getTime() - first.startTime.getTime()) / 1000, 1),
      });
  }
  return closes;
}

const round = (value: number, places = 2) => Math.round(value * 10 ** places) / 10 ** places;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dispatch: { type: 'string' },
      worker_pid: { type: 'string' },
      out: { type: 'string' },
      now: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const pid = Number(values.worker_pid);
  if (values.help || !values.dispatch || !values.out || !Number.isInteger(pid) || pid <= 0) {
    console.error('usage: scale-watch.ts --dispatch <dispatch id> --worker_pid <pid> --out <file> [--now]');
    process.exit(values.help ? 0 : 2);
  }
  memoryOf(pid);
  const client = await connectClient();
  const workflowId = dispatchWorkflowId(values.dispatch);
  const handle = client.workflow.getHandle(workflowId);
  const looks: Array<{ at: string; finished: number; rss: number; load: number[] }> = [];
  const look = async () => {
    const progress = await handle.query(progressQuery).catch(() => undefined);
    looks.push({
      at: new Date().toISOString(),
      finished: progress?.tasks_finished ?? -1,
      rss: memoryOf(pid).now,
      load: loadavg().map((value) => round(value)),
    });
  };
  await look();
  const timer = setInterval(() => void look().catch(() => undefined), LOOK_EVERY_MS);
  try {
    // However it ends: a dispatch stopped part-way is measured as far as it got.
    if (!values.now) await handle.result().catch(() => undefined);
  } finally {
    clearInterval(timer);
  }
  await look();
  const peakRss = memoryOf(pid).peak;
  const result = await handle.query(progressQuery);
  const plan = result.plan;
  if (!plan) throw new Error(`${values.dispatch} ended without a plan`);
  // From the first run's start, as the dispatch keeps it, to the last run's close.
  const last = await handle.describe();
  const closedAt = last.closeTime ?? new Date();
  const seconds = (closedAt.getTime() - result.started_at) / 1000;
  const closes = await jobCloses(client, workflowId, result.jobs_started);
  const histories = await dispatchHistories(
    client,
    workflowId,
    result.jobs_started,
    HISTORY_SAMPLE,
    result.settings.num_parallel_workers,
  );
  const figures = {
    dispatchId: values.dispatch,
    phase: result.phase,
    plannedTasks: plan.tasks_to_run,
    tasks: result.tasks_finished,
    plannedJobs: plan.jobs,
    jobsStarted: result.jobs_started,
    tasksPerJob: result.settings.tasks_per_job,
    window: result.settings.num_parallel_workers,
    counts: result.counts,
    runs: result.runs,
    startedAt: new Date(result.started_at).toISOString(),
    closedAt: closedAt.toISOString(),
    seconds: round(seconds, 1),
    tasksPerSecond: round(result.tasks_finished / seconds),
    maxEvents: histories.maxEvents,
    maxPayloadBytes: histories.maxPayloadBytes,
    maxEventBytes: histories.maxEventBytes,
    dispatchRunEvents: histories.runs.map((run) => run.events),
    maxJobEvents: Math.max(...histories.jobs.map((job) => job.events)),
    workerPeakRss: peakRss,
    jobCloses: closes,
    looks,
  };
  writeFileSync(values.out, JSON.stringify(figures, null, 2) + '\n');
  console.log(
    `${figures.tasks} of ${figures.plannedTasks} tasks in ${figures.seconds} s (${figures.tasksPerSecond} tasks/s, ${figures.runs} runs): ` +
      `largest history ${figures.maxEvents} events, largest payload ${figures.maxPayloadBytes} bytes, ` +
      `worker peak RSS ${round(peakRss / 2 ** 20, 1)} MiB; written to ${values.out}`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
