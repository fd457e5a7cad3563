import type { Histogram, Percentiles } from './types';

/** Percentile by nearest rank over sorted values. */
function rank(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Percentiles of the values (sorted in place); undefined when there are none. */
export function percentiles(values: Float64Array): Percentiles | undefined {
  if (values.length === 0) return undefined;
  values.sort();
  let sum = 0;
  for (const value of values) sum += value;
  return {
    count: values.length,
    min: values[0]!,
    p10: rank(values, 0.1),
    p50: rank(values, 0.5),
    p90: rank(values, 0.9),
    p99: rank(values, 0.99),
    max: values[values.length - 1]!,
    mean: sum / values.length,
  };
}

/**
 * Counts of the values in `bins` bins between their least and greatest; logarithmic bins when the
 * values spread over more than a factor of 20 (durations often do: most fast, a few slow).
 */
export function histogram(values: Float64Array, bins = 24): Histogram | undefined {
  if (values.length === 0) return undefined;
  let min = Infinity;
  let max = -Infinity;
  for (const value of values) {
    if (value < min) min = value;
    if (value > max) max = value;
  }
  const log = min > 0 && max / min > 20;
  if (max === min) return { edges: [min, max], counts: [values.length], log: false };
  const lo = log ? Math.log(min) : min;
  const width = ((log ? Math.log(max) : max) - lo) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => (log ? Math.exp(lo + i * width) : lo + i * width));
  edges[bins] = max;
  const counts = new Array<number>(bins).fill(0);
  for (const value of values) {
    const at = ((log ? Math.log(value) : value) - lo) / width;
    counts[Math.min(bins - 1, Math.max(0, Math.floor(at)))]!++;
  }
  return { edges, counts, log };
}

const NICE_BINS_S = [
  1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
];

/** A bin width that a reader can take in (1 s, 5 s, 1 min, 15 min, ...) giving at most `most` bins. */
export function binWidth(spanSeconds: number, most = 80): number {
  for (const width of NICE_BINS_S) if (spanSeconds / width <= most) return width;
  return Math.ceil(spanSeconds / most / 86400) * 86400;
}

/** A growable array of numbers, 8 bytes each: a task's time costs no object. */
export class Numbers {
  private data = new Float64Array(1024);
  length = 0;

  push(value: number): void {
    if (this.length === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = value;
  }

  values(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}
