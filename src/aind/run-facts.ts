import type { RunResources } from '../types';

/**
 * What the readers of many records (the report, `usage`, the plan's estimate) fetch of each, in
 * either record format: which analysis ran, when, and what it used. Each adds its own fields.
 */
export const RUN_PROJECTION = {
  analysis_name: 1,
  analysis_version: 1,
  run_resources: 1,
  'processing.data_processes.start_date_time': 1,
  'processing.data_processes.end_date_time': 1,
  started_at: 1,
  finished_at: 1,
} as const;

/** A record as `RUN_PROJECTION` returns it; any field may be missing from what a database holds. */
export interface RunRecord {
  analysis_name?: string;
  analysis_version?: string;
  run_resources?: Partial<RunResources>;
  processing?: {
    data_processes?: Array<{ start_date_time?: string; end_date_time?: string; experimenters?: string[] }>;
  };
  started_at?: string;
  finished_at?: string;
}

export interface RunTimes {
  /** Start and end of the run, ms since the epoch, where the record holds a valid time. */
  started?: number;
  finished?: number;
  /** End minus start, in seconds, where both are known. */
  span_s?: number;
  /** The measured wall time, else the span. */
  wall_s?: number;
  cpu_s?: number;
}

function time(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
}

/** When a recorded run took place and what it used: the institute's process fields, else the flat ones. */
export function runTimes(record: RunRecord): RunTimes {
  const process = record.processing?.data_processes?.[0];
  const started = time(process?.start_date_time ?? record.started_at);
  const finished = time(process?.end_date_time ?? record.finished_at);
  const span_s =
    started !== undefined && finished !== undefined ? Math.max(0, (finished - started) / 1000) : undefined;
  return {
    started,
    finished,
    span_s,
    wall_s: record.run_resources?.wall_time_s ?? span_s,
    cpu_s: record.run_resources?.cpu_time_s,
  };
}
