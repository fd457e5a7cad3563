import type { FailureGroups } from '../failure-signature';
import type { DispatchCounts } from '../workflows/messages';
import type { DispatchSettings, PlanSummary } from '../types';

/**
 * What `report` shows of a dispatch, and what `report --json` prints. Bounded whatever the
 * dispatch's size: counts, percentiles and time bins, with a few sample tasks, never a row per task.
 * Times on a chart axis are seconds from `timeline.start`.
 */
export interface ReportData {
  generated_at: string;
  dispatch: DispatchFacts;
  /** One time axis for the job timeline and the throughput. */
  timeline: TimeAxis;
  jobs: JobFacts;
  tasks: TaskFacts;
  failures: FailureFacts;
}

export interface DispatchFacts {
  dispatch_id: string;
  url: string;
  status: string;
  error?: string;
  error_type?: string;
  phase?: string;
  started_at?: string;
  ended_at?: string;
  elapsed_s: number;
  tasks_per_s: number;
  analysis_names: string[];
  retry_of?: string;
  plan?: PlanSummary;
  settings?: DispatchSettings;
  counts?: DispatchCounts;
  tasks_finished: number;
}

export interface TimeAxis {
  /** ISO time of the axis origin. */
  start: string;
  /** Seconds the axis spans. */
  span_s: number;
  /** Width of one bin, seconds. */
  bin_s: number;
  bins: number;
}

export interface Percentiles {
  count: number;
  min: number;
  p10: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export interface Histogram {
  /** `counts.length + 1` bin edges, ascending. */
  edges: number[];
  counts: number[];
  log: boolean;
}

export interface JobSpan {
  index: number;
  /** Seconds from the axis origin. */
  start_s: number;
  end_s: number;
  status: string;
  running: boolean;
}

export interface JobFacts {
  /** Job workflows Temporal lists for the dispatch. */
  listed: number;
  by_status: Record<string, number>;
  duration_s?: Percentiles;
  /** Jobs running, on average over each bin of the axis. */
  running: number[];
  started: number[];
  /** Each job, when there are few enough to draw one by one. */
  spans?: JobSpan[];
}

export interface AnalysisFacts {
  analysis_name: string;
  versions: string[];
  /** Records this dispatch wrote for the analysis. */
  records: number;
  duration_s?: Percentiles;
  histogram?: Histogram;
  /** Sum of the runs' wall time, seconds. */
  wall_time_s: number;
  /** Sum of CPU time over the runs that measured it. */
  cpu_time_s?: number;
  cpu_measured: number;
  peak_memory_mib?: Percentiles;
}

export interface TaskSample {
  hash: string;
  asset_name: string;
  analysis_name: string;
  duration_s: number;
  worker_host: string;
}

export interface TaskFacts {
  /** Records this dispatch wrote (its succeeded tasks). */
  records: number;
  analyses: AnalysisFacts[];
  /** Tasks finished in each bin of the axis. */
  finished: number[];
  /** Tasks per worker host, most first; the rest summed under `other_hosts`. */
  workers: Array<{ host: string; tasks: number }>;
  other_hosts: number;
  other_host_tasks: number;
  slowest: TaskSample[];
}

export interface FailureFacts extends FailureGroups {
  /** Failed tasks, counted by the dispatch. */
  failed: number;
}
