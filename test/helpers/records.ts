import { recordFacts } from '../../src/aind/metadata';
import type { StoredRecord } from '../../src/types';

/** When a record's run started and finished, in milliseconds, from either record format. */
export function timesOf(record: StoredRecord): [number, number] {
  const facts = recordFacts(record);
  return [Date.parse(facts.started_at ?? ''), Date.parse(facts.finished_at ?? '')];
}

/** Largest number of intervals open at the same moment. */
export function maxOverlap(intervals: Array<[number, number]>): number {
  const events = intervals.flatMap(([start, end]) => [[start, 1] as const, [end, -1] as const]);
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let peak = 0;
  for (const [, delta] of events) peak = Math.max(peak, (open += delta));
  return peak;
}
