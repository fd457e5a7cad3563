import type { Collection } from 'mongodb';
import { RUN_PROJECTION, runTimes, type RunRecord } from '../aind/run-facts';
import { Numbers, percentiles } from '../report/stats';
import type { StoredRecord } from '../types';

/** Runs of one analysis version: its durations as numbers, CPU time as a sum. */
interface VersionHistory {
  durations: Numbers;
  cpu: number;
  cpuMeasured: number;
}

/** The past runs of the analyses a plan names, by name and then version. */
export type History = Map<string, Map<string, VersionHistory>>;

export interface AnalysisEstimate {
  analysis_name: string;
  analysis_version: string;
  tasks: number;
  /** Where the figures come from: records of this version, of the analysis's other versions, or none. */
  basis: 'same version' | 'other versions' | 'no history';
  history_records: number;
  median_task_s?: number;
  p90_task_s?: number;
  /** Tasks x mean CPU time per task (where not measured, the wall time stands in for it). */
  cpu_hours?: number;
  /** Tasks x mean time per task: the work to spread over the parallel jobs. */
  task_hours?: number;
}

export interface Estimate {
  num_parallel_workers: number;
  analyses: AnalysisEstimate[];
  /** Sums over the analyses with history; tasks without history are not in them. */
  cpu_hours: number;
  wall_hours: number;
  tasks_without_history: number;
}

/**
 * One streamed pass over the records of the named analyses, keeping a few numbers per record: a
 * lookup per analysis version would cost a scan each on a database without indexes that help.
 */
export async function readHistory(records: Collection<StoredRecord>, names: string[]): Promise<History> {
  const history: History = new Map();
  const cursor = records.find<RunRecord>(
    { analysis_name: { $in: names } },
    { projection: RUN_PROJECTION, batchSize: 2000 },
  );
  try {
    for await (const record of cursor) {
      const run = runTimes(record);
      if (run.wall_s === undefined || !record.analysis_name) continue;
      const versions = history.get(record.analysis_name) ?? new Map<string, VersionHistory>();
      history.set(record.analysis_name, versions);
      const version = record.analysis_version ?? '';
      const past = versions.get(version) ?? { durations: new Numbers(), cpu: 0, cpuMeasured: 0 };
      versions.set(version, past);
      past.durations.push(run.wall_s);
      past.cpu += run.cpu_s ?? run.wall_s;
      if (run.cpu_s !== undefined) past.cpuMeasured++;
    }
  } finally {
    await cursor.close();
  }
  return history;
}

function merged(histories: VersionHistory[]): VersionHistory {
  const all: VersionHistory = { durations: new Numbers(), cpu: 0, cpuMeasured: 0 };
  for (const past of histories) {
    for (const value of past.durations.values()) all.durations.push(value);
    all.cpu += past.cpu;
    all.cpuMeasured += past.cpuMeasured;
  }
  return all;
}

const hours = (seconds: number) => seconds / 3600;

/** Hours as people read them: 1240, 12.4, 0.125, 0.00042. */
export function hoursText(value: number): string {
  if (value === 0) return '0';
  if (value >= 100) return Math.round(value).toString();
  if (value >= 0.1) return value.toFixed(value >= 10 ? 1 : 3).replace(/\.?0+$/, '');
  return value.toPrecision(2);
}

/** The estimate of each analysis's tasks to run, and of them all at `parallel` jobs at once. */
export function estimate(
  tasks: Array<{ analysis_name: string; analysis_version: string; count: number }>,
  history: History,
  parallel: number,
): Estimate {
  let taskSeconds = 0;
  let cpuSeconds = 0;
  let withHistory = 0;
  let without = 0;
  const analyses = tasks.map(({ analysis_name, analysis_version, count }): AnalysisEstimate => {
    const versions = history.get(analysis_name);
    const same = versions?.get(analysis_version);
    const past = same ?? (versions?.size ? merged([...versions.values()]) : undefined);
    const stats = past && percentiles(Float64Array.from(past.durations.values()));
    if (!past || !stats) {
      without += count;
      return { analysis_name, analysis_version, tasks: count, basis: 'no history', history_records: 0 };
    }
    const meanCpu = past.cpu / stats.count;
    taskSeconds += count * stats.mean;
    cpuSeconds += count * meanCpu;
    withHistory += count;
    return {
      analysis_name,
      analysis_version,
      tasks: count,
      basis: same ? 'same version' : 'other versions',
      history_records: stats.count,
      median_task_s: stats.p50,
      p90_task_s: stats.p90,
      cpu_hours: hours(count * meanCpu),
      task_hours: hours(count * stats.mean),
    };
  });
  const lanes = Math.max(1, Math.min(parallel, withHistory));
  return {
    num_parallel_workers: parallel,
    analyses,
    cpu_hours: hours(cpuSeconds),
    wall_hours: hours(taskSeconds / lanes),
    tasks_without_history: without,
  };
}

const seconds = (value: number) => (value < 10 ? value.toFixed(1) : Math.round(value).toString());

/** The estimate as `plan` prints it. */
export function estimateLines(result: Estimate): string[] {
  const lines = [
    `estimate at ${result.num_parallel_workers} parallel jobs: ${hoursText(result.cpu_hours)} CPU-hours, about ${hoursText(result.wall_hours)} h wall time` +
      (result.tasks_without_history
        ? ` (without the ${result.tasks_without_history} tasks of no history)`
        : ''),
  ];
  for (const analysis of result.analyses) {
    const name = `  ${analysis.analysis_name} ${analysis.analysis_version}: ${analysis.tasks} tasks`;
    lines.push(
      analysis.basis === 'no history'
        ? `${name}, no history`
        : `${name}, median ${seconds(analysis.median_task_s!)} s, p90 ${seconds(analysis.p90_task_s!)} s per task ` +
            `(${analysis.history_records} records of ${analysis.basis === 'same version' ? 'this version' : 'other versions'}), ${hoursText(analysis.cpu_hours!)} CPU-hours`,
    );
  }
  return lines;
}
