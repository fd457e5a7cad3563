import type { Collection } from 'mongodb';
import type { StoredRecord } from '../types';
import { RUN_PROJECTION, runTimes, type RunRecord } from '../aind/run-facts';
import { Numbers } from './stats';
import type { TaskSample } from './types';

/** Only what the report reads of a record, in either format. */
const PROJECTION = { ...RUN_PROJECTION, _id: 1, 'input.asset_name': 1, worker_host: 1 };

type ProjectedRecord = RunRecord & { _id: string; input?: { asset_name?: string[] }; worker_host?: string };

/** What one pass over the records gathers per analysis: numbers, not documents. */
export interface AnalysisTally {
  versions: Set<string>;
  records: number;
  durations: Numbers;
  wallTime: number;
  cpuTime: number;
  cpuMeasured: number;
  peakMemory: Numbers;
}

export interface RecordTally {
  records: number;
  analyses: Map<string, AnalysisTally>;
  /** When each task finished, ms since the epoch. */
  finishedAt: Numbers;
  /** The earliest start seen, ms since the epoch. */
  firstStart: number;
  lastFinish: number;
  hosts: Map<string, number>;
  slowest: TaskSample[];
}

const SLOWEST_KEPT = 5;

function keepSlowest(slowest: TaskSample[], sample: TaskSample): void {
  if (slowest.length === SLOWEST_KEPT && sample.duration_s <= slowest[slowest.length - 1]!.duration_s) return;
  slowest.push(sample);
  slowest.sort((a, b) => b.duration_s - a.duration_s);
  if (slowest.length > SLOWEST_KEPT) slowest.pop();
}

/** Adds one record to the tally. */
export function tallyRecord(tally: RecordTally, record: ProjectedRecord): void {
  tally.records++;
  const name = record.analysis_name ?? '(unnamed)';
  let analysis = tally.analyses.get(name);
  if (!analysis) {
    analysis = {
      versions: new Set(),
      records: 0,
      durations: new Numbers(),
      wallTime: 0,
      cpuTime: 0,
      cpuMeasured: 0,
      peakMemory: new Numbers(),
    };
    tally.analyses.set(name, analysis);
  }
  analysis.records++;
  if (record.analysis_version) analysis.versions.add(record.analysis_version);
  const { started, finished, span_s } = runTimes(record);
  const resources = record.run_resources;
  const duration = span_s ?? resources?.wall_time_s;
  if (duration !== undefined) {
    analysis.durations.push(duration);
    keepSlowest(tally.slowest, {
      hash: record._id,
      asset_name: record.input?.asset_name?.join(',') ?? '',
      analysis_name: name,
      duration_s: duration,
      worker_host: record.worker_host ?? '',
    });
  }
  analysis.wallTime += resources?.wall_time_s ?? duration ?? 0;
  if (resources?.cpu_time_s !== undefined) {
    analysis.cpuTime += resources.cpu_time_s;
    analysis.cpuMeasured++;
  }
  if (resources?.peak_memory_mib !== undefined) analysis.peakMemory.push(resources.peak_memory_mib);
  if (finished !== undefined) {
    tally.finishedAt.push(finished);
    if (finished > tally.lastFinish) tally.lastFinish = finished;
  }
  if (started !== undefined && started < tally.firstStart) tally.firstStart = started;
  const host = record.worker_host || '(unknown)';
  tally.hosts.set(host, (tally.hosts.get(host) ?? 0) + 1);
}

export function emptyTally(): RecordTally {
  return {
    records: 0,
    analyses: new Map(),
    finishedAt: new Numbers(),
    firstStart: Infinity,
    lastFinish: -Infinity,
    hosts: new Map(),
    slowest: [],
  };
}

/**
 * One streamed pass over the records a dispatch wrote, reading only the fields the report needs:
 * memory grows by a few numbers per task, never by a document.
 */
export async function tallyRecords(
  records: Collection<StoredRecord>,
  dispatchId: string,
): Promise<RecordTally> {
  const tally = emptyTally();
  const cursor = records.find<ProjectedRecord>(
    { dispatch_id: dispatchId },
    { projection: PROJECTION, batchSize: 2000 },
  );
  try {
    for await (const record of cursor) tallyRecord(tally, record);
  } finally {
    await cursor.close();
  }
  return tally;
}
