import { groupFailures } from '../failure-signature';
import { elapsedSeconds, tasksPerSecond, type Outcome, type OutcomeView } from '../dispatch-outcome';
import type { JobRun } from './jobs';
import type { RecordTally } from './records';
import { binWidth, histogram, Numbers, percentiles } from './stats';
import type { AnalysisFacts, DispatchFacts, JobFacts, ReportData, TaskFacts, TimeAxis } from './types';

/** Jobs drawn one by one up to this many; beyond, the timeline shows jobs running per bin. */
export const JOBS_DRAWN = 150;
const HOSTS_LISTED = 10;
const FAILURE_GROUPS = 20;

export interface ReportInputs {
  outcome: Outcome;
  view: OutcomeView;
  tally: RecordTally;
  jobs: JobRun[];
  now?: number;
}

function dispatchFacts({ outcome, view }: ReportInputs, now: number): DispatchFacts {
  const progress = outcome.progress;
  return {
    dispatch_id: view.dispatchId,
    url: view.url,
    status: outcome.status,
    ...(outcome.error ? { error: outcome.error } : {}),
    ...(outcome.errorType ? { error_type: outcome.errorType } : {}),
    ...(progress
      ? {
          phase: progress.phase,
          started_at: new Date(progress.started_at).toISOString(),
          plan: progress.plan,
          settings: progress.settings,
          counts: progress.counts,
          ...(progress.retry_of ? { retry_of: progress.retry_of } : {}),
        }
      : {}),
    ...(outcome.endedAt ? { ended_at: new Date(outcome.endedAt).toISOString() } : {}),
    elapsed_s: elapsedSeconds(outcome, now),
    tasks_per_s: tasksPerSecond(outcome, now),
    analysis_names: progress?.analysis_names ?? [],
    tasks_finished: progress?.tasks_finished ?? 0,
  };
}

/** The one time axis: from the first thing that started to the last that ended (or now). */
function timeAxis(inputs: ReportInputs, now: number): { axis: TimeAxis; origin: number } {
  const { outcome, tally, jobs } = inputs;
  let origin = Math.min(outcome.progress?.started_at ?? Infinity, tally.firstStart);
  let end = Math.max(outcome.endedAt ?? -Infinity, tally.lastFinish);
  for (const job of jobs) {
    origin = Math.min(origin, job.startMs);
    end = Math.max(end, job.endMs ?? now);
  }
  if (outcome.status === 'running') end = Math.max(end, now);
  if (!Number.isFinite(origin)) origin = now;
  if (!Number.isFinite(end) || end < origin) end = origin;
  const span = (end - origin) / 1000;
  const bin = binWidth(span);
  return {
    origin,
    axis: {
      start: new Date(origin).toISOString(),
      span_s: span,
      bin_s: bin,
      bins: Math.max(1, Math.ceil(span / bin)),
    },
  };
}

function jobFacts(jobs: JobRun[], axis: TimeAxis, origin: number, now: number): JobFacts {
  const running = new Array<number>(axis.bins).fill(0);
  const started = new Array<number>(axis.bins).fill(0);
  const byStatus: Record<string, number> = {};
  const durations = new Numbers();
  const last = axis.bins - 1;
  for (const job of jobs) {
    byStatus[job.status] = (byStatus[job.status] ?? 0) + 1;
    const from = (job.startMs - origin) / 1000;
    const to = ((job.endMs ?? now) - origin) / 1000;
    if (job.endMs !== undefined) durations.push(Math.max(0, to - from));
    started[Math.min(last, Math.floor(from / axis.bin_s))]!++;
    // The job's share of each bin it overlaps: the mean number of jobs running in that bin.
    for (let bin = Math.floor(from / axis.bin_s); bin <= Math.min(last, Math.floor(to / axis.bin_s)); bin++) {
      const overlap = Math.min(to, (bin + 1) * axis.bin_s) - Math.max(from, bin * axis.bin_s);
      if (overlap > 0) running[bin]! += overlap / axis.bin_s;
    }
  }
  return {
    listed: jobs.length,
    by_status: byStatus,
    duration_s: percentiles(durations.values()),
    running: running.map((value) => Math.round(value * 100) / 100),
    started,
    ...(jobs.length <= JOBS_DRAWN
      ? {
          spans: jobs.map((job) => ({
            index: job.index,
            start_s: (job.startMs - origin) / 1000,
            end_s: ((job.endMs ?? now) - origin) / 1000,
            status: job.status,
            running: job.endMs === undefined,
          })),
        }
      : {}),
  };
}

function taskFacts(tally: RecordTally, axis: TimeAxis, origin: number): TaskFacts {
  const finished = new Array<number>(axis.bins).fill(0);
  for (const at of tally.finishedAt.values())
    finished[Math.min(axis.bins - 1, Math.max(0, Math.floor((at - origin) / 1000 / axis.bin_s)))]!++;
  const analyses: AnalysisFacts[] = [...tally.analyses.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, analysis]) => ({
      analysis_name: name,
      versions: [...analysis.versions].sort(),
      records: analysis.records,
      histogram: histogram(analysis.durations.values()),
      duration_s: percentiles(analysis.durations.values()),
      wall_time_s: analysis.wallTime,
      ...(analysis.cpuMeasured > 0 ? { cpu_time_s: analysis.cpuTime } : {}),
      cpu_measured: analysis.cpuMeasured,
      peak_memory_mib: percentiles(analysis.peakMemory.values()),
    }));
  const hosts = [...tally.hosts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const rest = hosts.slice(HOSTS_LISTED);
  return {
    records: tally.records,
    analyses,
    finished,
    workers: hosts.slice(0, HOSTS_LISTED).map(([host, tasks]) => ({ host, tasks })),
    other_hosts: rest.length,
    other_host_tasks: rest.reduce((sum, [, tasks]) => sum + tasks, 0),
    slowest: tally.slowest,
  };
}

/** Everything the report shows, from the dispatch's outcome, its jobs and its records. */
export function buildReport(inputs: ReportInputs): ReportData {
  const now = inputs.now ?? Date.now();
  const { axis, origin } = timeAxis(inputs, now);
  const progress = inputs.outcome.progress;
  return {
    generated_at: new Date(now).toISOString(),
    dispatch: dispatchFacts(inputs, now),
    timeline: axis,
    jobs: jobFacts(inputs.jobs, axis, origin, now),
    tasks: taskFacts(inputs.tally, axis, origin),
    failures: {
      failed: progress?.counts.failed ?? 0,
      ...groupFailures(progress?.failures ?? [], { top: FAILURE_GROUPS, examples: 3 }),
    },
  };
}
