import type { Collection } from 'mongodb';
import { RUN_PROJECTION, runTimes, type RunRecord } from '../aind/run-facts';
import { InputError } from '../errors';
import { stores } from '../storage/database';
import type { StoredRecord } from '../types';
import type { Session } from './common';
import { hoursText } from './estimate';
import { csvField } from './results/format';
import { textTable } from './table';

export const USAGE_GROUPINGS = ['experimenter', 'analysis', 'dispatch'] as const;
export type UsageGrouping = (typeof USAGE_GROUPINGS)[number];

export interface UsageFlags {
  since?: string;
  by?: string;
  json?: boolean;
  csv?: boolean;
}

export interface UsageRow {
  key: string;
  tasks: number;
  cpu_hours: number;
  wall_hours: number;
  bytes_written: number;
  /** Records that measured CPU time; the others count their wall time as CPU time. */
  cpu_measured: number;
}

const UNITS: Record<string, number> = { h: 3600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** `--since`: `30d`, `12h`, `2w`, or a date (`2026-11-01`); the start of the period, in ms. */
export function sinceOf(value: string | undefined, now = Date.now()): number {
  const text = (value ?? '30d').trim();
  const relative = /^(\d+)\s*([hdw])$/.exec(text);
  if (relative) return now - Number(relative[1]) * UNITS[relative[2]!]!;
  const date = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  if (!Number.isFinite(date))
    throw new InputError(
      `--since must be a period like 30d, 12h or 2w, or a date like 2026-11-01, got "${text}"`,
    );
  return date;
}

export function groupingOf(value: string | undefined): UsageGrouping {
  const by = value?.trim() || 'experimenter';
  if (!(USAGE_GROUPINGS as readonly string[]).includes(by))
    throw new InputError(`--by must be one of ${USAGE_GROUPINGS.join(', ')}, got "${by}"`);
  return by as UsageGrouping;
}

const PROJECTION = {
  ...RUN_PROJECTION,
  dispatch_id: 1,
  'processing.data_processes.experimenters': 1,
};

type ProjectedRecord = RunRecord & { dispatch_id?: string };

function keyOf(record: ProjectedRecord, by: UsageGrouping): string {
  if (by === 'analysis') return record.analysis_name ?? '(unnamed)';
  if (by === 'dispatch') return record.dispatch_id ?? '(none)';
  return record.processing?.data_processes?.[0]?.experimenters?.join(', ') || '(not recorded)';
}

/** Adds one record to its group; false when it finished before `since` (the filter's margin). */
export function addRecord(
  rows: Map<string, UsageRow>,
  record: ProjectedRecord,
  by: UsageGrouping,
  since: number,
): boolean {
  const { finished, wall_s: wall = 0, cpu_s: cpu } = runTimes(record);
  if (finished === undefined || finished < since) return false;
  const key = keyOf(record, by);
  const row = rows.get(key) ?? {
    key,
    tasks: 0,
    cpu_hours: 0,
    wall_hours: 0,
    bytes_written: 0,
    cpu_measured: 0,
  };
  rows.set(key, row);
  row.tasks++;
  row.wall_hours += wall / 3600;
  row.cpu_hours += (cpu ?? wall) / 3600;
  if (cpu !== undefined) row.cpu_measured++;
  row.bytes_written += record.run_resources?.output_bytes ?? 0;
  return true;
}

/**
 * One streamed pass over the records finished since `since`, summed by group: the database does
 * the date filter (both record formats hold ISO times, which compare as text), the sums are made
 * here, a few numbers per group.
 */
export async function sumUsage(
  records: Collection<StoredRecord>,
  by: UsageGrouping,
  since: number,
): Promise<UsageRow[]> {
  const from = new Date(since).toISOString();
  const rows = new Map<string, UsageRow>();
  const cursor = records.find<ProjectedRecord>(
    { $or: [{ 'processing.data_processes.end_date_time': { $gte: from } }, { finished_at: { $gte: from } }] },
    { projection: PROJECTION, batchSize: 2000 },
  );
  try {
    for await (const record of cursor) addRecord(rows, record, by, since);
  } finally {
    await cursor.close();
  }
  return [...rows.values()].sort((a, b) => b.cpu_hours - a.cpu_hours || a.key.localeCompare(b.key));
}

const COLUMNS = ['tasks', 'cpu_hours', 'wall_hours', 'bytes_written'] as const;

/** `usage`: tasks, CPU-hours, wall-hours and bytes written by the runs recorded since a date. */
export async function showUsage(session: Session, flags: UsageFlags): Promise<void> {
  const since = sinceOf(flags.since);
  const by = groupingOf(flags.by);
  if (flags.json && flags.csv) throw new InputError('give either --json or --csv, not both');
  const { records } = stores(await session.mongo(), session.config);
  const rows = await sumUsage(records, by, since);
  const sinceText = new Date(since).toISOString();
  if (flags.json) {
    console.log(JSON.stringify({ since: sinceText, by, rows }, null, 2));
    return;
  }
  if (flags.csv) {
    console.log([by, ...COLUMNS, 'cpu_measured'].join(','));
    for (const row of rows)
      console.log([row.key, ...COLUMNS.map((c) => row[c]), row.cpu_measured].map(csvField).join(','));
    return;
  }
  const table = textTable({ head: [by, 'tasks', 'CPU-hours', 'wall-hours', 'bytes written'] });
  for (const row of rows)
    table.push([row.key, row.tasks, hoursText(row.cpu_hours), hoursText(row.wall_hours), row.bytes_written]);
  const total = rows.reduce(
    (sum, row) => ({
      tasks: sum.tasks + row.tasks,
      cpu: sum.cpu + row.cpu_hours,
      wall: sum.wall + row.wall_hours,
      bytes: sum.bytes + row.bytes_written,
    }),
    { tasks: 0, cpu: 0, wall: 0, bytes: 0 },
  );
  table.push(['total', total.tasks, hoursText(total.cpu), hoursText(total.wall), total.bytes]);
  console.log(`runs recorded since ${sinceText}, by ${by}`);
  console.log(table.toString());
  const unmeasured = rows.reduce((sum, row) => sum + row.tasks - row.cpu_measured, 0);
  if (unmeasured > 0)
    console.log(
      `${unmeasured} runs measured no CPU time (TypeScript analyses before it was measured): their wall time counts as CPU time`,
    );
}
