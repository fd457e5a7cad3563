import { runBaseline, type BaselineRun } from './baseline';
import type { BaselineChild } from './baseline-workflows';
import type { BenchContext } from './context';
import { cpuMeter, type CpuUse } from './cpu';
import { dispatchHistories, type DispatchHistories } from './dispatch-histories';
import { NOOP_ANALYSIS, runDispatch, type BenchAnalysis, type DispatchRun } from './dispatch-run';
import {
  addLoss,
  NO_LOSS,
  windowLoss,
  type WindowLoss,
  fetchEvents,
  historyStats,
  mergeProfiles,
  profileHistory,
  sampleIndexes,
  type HistoryProfile,
} from './histories';
import { concurrencyOf, type ConcurrencyResult } from './p2-concurrency';
import { seedAssetRecords } from './seed';

export interface MeasuredBaseline extends Omit<BaselineRun, 'samples' | 'counts'> {
  cpu: CpuUse;
  concurrency: ConcurrencyResult;
}

export interface BaselineSummary {
  runs: MeasuredBaseline[];
  children: number;
  seconds: number;
  /** All runs together: children over the sum of their durations. */
  childrenPerSecond: number;
  /** Mean events per child: its own history plus its share of the parent's. */
  eventsPerChild: number;
  childProfile: HistoryProfile;
  cpuMsPerChild: Record<string, number>;
  /** The parents' unused window, read from their histories (see windowLoss). */
  windowLoss: WindowLoss;
}

export interface DispatchSummary {
  dispatchId: string;
  tasks: number;
  jobs: number;
  tasksPerJob: number;
  window: number;
  seconds: number;
  runSeconds: number;
  jobsPerSecond: number;
  tasksPerSecond: number;
  runs: number;
  concurrency: ConcurrencyResult;
  histories: DispatchHistories;
  /** Mean events per job (its own plus its share of the dispatch's) and per task. */
  eventsPerJob: number;
  eventsPerTask: number;
  cpu: CpuUse;
  cpuMsPerTask: Record<string, number>;
}

const HISTORY_SAMPLE = 10;

function perUnit(cpu: CpuUse, units: number): Record<string, number> {
  const result: Record<string, number> = {};
  for (const [name, seconds] of Object.entries(cpu))
    if (name !== 'wall') result[name] = (seconds * 1000) / units;
  return result;
}

/** One run of the raw baseline, with the CPU it cost and its window as sampled. */
export async function measureBaseline(
  ctx: BenchContext,
  options: { children: number; window: number; child: BaselineChild; label: string },
): Promise<MeasuredBaseline> {
  const meter = cpuMeter(ctx.pids);
  const { samples, counts, ...run } = await runBaseline(ctx.stack.client, {
    taskQueue: ctx.stack.names.baselineQueue,
    children: options.children,
    window: options.window,
    child: options.child,
    id: `${ctx.stack.names.id}-${options.label}`,
    sampleMs: ctx.sampleMs,
  });
  const cpu = meter();
  return { ...run, cpu, concurrency: concurrencyOf({ ...run, jobs: run.children, samples, counts }) };
}

/** The baseline runs together: rates combine all runs; histories of a sample of children. */
export async function summarizeBaselines(
  ctx: BenchContext,
  runs: MeasuredBaseline[],
): Promise<BaselineSummary> {
  const { client } = ctx.stack;
  const children = runs.reduce((sum, run) => sum + run.children, 0);
  const seconds = runs.reduce((sum, run) => sum + run.seconds, 0);
  const profiles: HistoryProfile[] = [];
  let childEvents = 0;
  let sampled = 0;
  let parentEvents = 0;
  let loss: WindowLoss = NO_LOSS;
  for (const run of runs) {
    const parent = await fetchEvents(client, run.workflowId);
    parentEvents += historyStats(run.workflowId, parent).events;
    const {
      runningAtEnd: _end,
      freedAtEnd: _freed,
      ...runLoss
    } = windowLoss(parent, run.window, { completion: 'child' });
    loss = addLoss(loss, runLoss);
    for (const index of sampleIndexes(run.children, Math.ceil(HISTORY_SAMPLE / runs.length))) {
      const events = await fetchEvents(client, `${run.workflowId}-child-${index}`);
      childEvents += events.length;
      sampled++;
      profiles.push(profileHistory(events));
    }
  }
  const cpu: CpuUse = {};
  for (const run of runs)
    for (const [name, value] of Object.entries(run.cpu)) cpu[name] = (cpu[name] ?? 0) + value;
  return {
    runs,
    children,
    seconds,
    childrenPerSecond: children / seconds,
    eventsPerChild: childEvents / Math.max(1, sampled) + parentEvents / children,
    childProfile: mergeProfiles(profiles),
    cpuMsPerChild: perUnit(cpu, children),
    windowLoss: loss,
  };
}

/**
 * One measured dispatch of `tasks` tasks of `analysis` (Noop unless given; `set` selects its
 * freshly seeded assets).
 */
export async function measureDispatch(
  ctx: BenchContext,
  options: {
    set: string;
    tasks: number;
    tasksPerJob: number;
    window: number;
    analysis?: BenchAnalysis;
    historySample?: number;
  },
): Promise<{ summary: DispatchSummary; run: DispatchRun }> {
  const { stack } = ctx;
  await seedAssetRecords(stack.mongo.db(stack.names.assetsDb).collection(stack.config.ASSETS_COLLECTION), {
    set: options.set,
    count: options.tasks,
    // Not the results bucket: a local S3 that reads a bucket's whole top folder for a listing
    // (versitygw) would make each planned asset cost more as results fill it.
    bucket: stack.names.dataBucket,
  });
  const meter = cpuMeter(ctx.pids);
  const run = await runDispatch({
    client: stack.client,
    config: stack.config,
    dir: ctx.dir,
    dispatchId: `bench-${stack.names.id}-${options.set}`,
    query: { set: options.set },
    analysis: options.analysis ?? NOOP_ANALYSIS,
    analysisVersion: `${options.set}-${stack.names.id}`,
    tasksPerJob: options.tasksPerJob,
    window: options.window,
    sampleMs: ctx.sampleMs,
  });
  const cpu = meter();
  const histories = await dispatchHistories(
    stack.client,
    run.workflowId,
    run.jobs,
    options.historySample ?? HISTORY_SAMPLE,
    options.window,
  );
  const eventsPerJob = histories.jobEvents + histories.dispatchEventsPerJob;
  return {
    run,
    summary: {
      dispatchId: run.dispatchId,
      tasks: run.tasks,
      jobs: run.jobs,
      tasksPerJob: run.tasksPerJob,
      window: run.window,
      seconds: run.seconds,
      runSeconds: run.runSeconds,
      jobsPerSecond: run.jobs / run.seconds,
      tasksPerSecond: run.tasks / run.seconds,
      runs: run.result.runs,
      concurrency: concurrencyOf(run),
      histories,
      eventsPerJob,
      eventsPerTask: (eventsPerJob * run.jobs) / run.tasks,
      cpu,
      cpuMsPerTask: perUnit(cpu, run.tasks),
    },
  };
}
