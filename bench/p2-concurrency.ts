import type { Sample } from './sampler';

export interface ConcurrencyResult {
  window: number;
  jobs: number;
  samples: number;
  countSamples: number;
  /** Highest number of running jobs the dispatch's `progress` query reported. */
  maxRunning: number;
  /** Highest count of running job workflows in the visibility store (eventually consistent). */
  maxRunningVisibility?: number;
  /** Steady state: from the first window started to the last job started, in seconds of the run. */
  steadyFrom?: number;
  steadyTo?: number;
  /** Time-weighted mean of running jobs over the steady state, and as a share of the window. */
  meanRunning?: number;
  meanShare?: number;
  meanRunningVisibility?: number;
  countError?: string;
}

/** Mean of a step function given by samples, weighted by how long each value held within [from, to]. */
function timeWeightedMean(
  points: Array<{ t: number; value: number }>,
  from: number,
  to: number,
): number | undefined {
  let area = 0;
  let span = 0;
  for (const [i, point] of points.entries()) {
    const next = points[i + 1]?.t ?? to;
    const start = Math.max(point.t, from);
    const end = Math.min(next, to);
    if (end > start) {
      area += point.value * (end - start);
      span += end - start;
    }
  }
  return span > 0 ? area / span : undefined;
}

/**
 * P2: a window of running children (the dispatch's jobs, or the baseline's), as sampled through a run. Steady state excludes the ramp-up before the
 * first `window` jobs were started and the drain once no job is left to start, where fewer than
 * `window` jobs can run by construction.
 */
export function concurrencyOf(run: {
  window: number;
  jobs: number;
  samples: Sample[];
  counts: Array<{ t: number; running: number }>;
  countError?: string;
}): ConcurrencyResult {
  const { window, jobs } = run;
  const samples = run.samples.filter((sample) => sample.phase !== 'planning');
  const counts = run.counts;
  const result: ConcurrencyResult = {
    window,
    jobs,
    samples: run.samples.length,
    countSamples: counts.length,
    maxRunning: samples.reduce((most, sample) => Math.max(most, sample.running), 0),
    ...(counts.length
      ? { maxRunningVisibility: counts.reduce((most, sample) => Math.max(most, sample.running), 0) }
      : {}),
    ...(run.countError ? { countError: run.countError } : {}),
  };
  const from = samples.find((sample) => sample.started >= Math.min(window, jobs))?.t;
  const to = samples.find((sample) => sample.started >= jobs)?.t;
  if (from === undefined || to === undefined || to <= from || jobs <= window) return result;
  const mean = timeWeightedMean(
    samples.map((sample) => ({ t: sample.t, value: sample.running })),
    from,
    to,
  );
  const meanVisibility = timeWeightedMean(
    counts.map((sample) => ({ t: sample.t, value: sample.running })),
    from,
    to,
  );
  return {
    ...result,
    steadyFrom: from,
    steadyTo: to,
    ...(mean !== undefined ? { meanRunning: mean, meanShare: mean / window } : {}),
    ...(meanVisibility !== undefined ? { meanRunningVisibility: meanVisibility } : {}),
  };
}
