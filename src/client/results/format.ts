import { recordFacts } from '../../aind/metadata';
import type { StoredRecord } from '../../types';
import { textTable } from '../table';
import { listedAnalysis } from './query';

const HASH_PREFIX = 12;

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function compactValue(value: unknown): string {
  if (typeof value === 'number')
    return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
  if (typeof value === 'string') return value;
  return JSON.stringify(value) ?? String(value);
}

/** `key=value` pairs short enough for one table cell; the full outputs are in --json and --csv. */
export function outputsSummary(outputs: Record<string, unknown> | undefined, max = 40): string {
  const pairs = Object.entries(outputs ?? {}).map(([key, value]) => `${key}=${compactValue(value)}`);
  return truncate(pairs.join(' '), max);
}

export function assetsSummary(names: string[] | undefined): string {
  const list = names ?? [];
  return list.length <= 2 ? list.join(', ') : `${list.slice(0, 2).join(', ')} +${list.length - 2} more`;
}

/** A time as the table shows it: to the minute, UTC (`2026-12-07 07:57`); whole in --json and --csv. */
export function minuteOf(time: string | undefined): string {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(time ?? '');
  return match ? `${match[1]} ${match[2]}` : (time ?? '');
}

/**
 * The records as a table that fits a 120-column terminal: what tells records apart at a glance,
 * long values cut at their end (an asset name's start says the modality, subject and date). The
 * whole values, with `location`, the parameters and the measured resources, are in --json and
 * --csv.
 */
export function resultsTable(records: StoredRecord[]): string {
  const table = textTable({ head: ['hash', 'analysis', 'asset(s)', 'finished_at', 'outputs'] });
  for (const record of records) {
    const facts = recordFacts(record);
    const analysis = listedAnalysis(record);
    table.push([
      record._id.slice(0, HASH_PREFIX),
      `${analysis.wrapper ? `${analysis.name} (wrapper)` : analysis.name} ${analysis.version}`,
      assetsSummary(record.input?.asset_name),
      minuteOf(facts.finished_at),
      outputsSummary(facts.outputs),
    ]);
  }
  return table.toString();
}

const CSV_COLUMNS = [
  'hash',
  'analysis_name',
  'analysis_version',
  'asset_name',
  'dispatch_id',
  'started_at',
  'finished_at',
  'outputs',
  'parameters',
  'location',
  'wall_time_s',
  'cpu_time_s',
  'peak_memory_mib',
] as const;

/**
 * A spreadsheet runs a cell that starts with one of these as a formula (`=HYPERLINK(...)` in an
 * asset name, `@SUM(...)`, `+cmd|...`), and a tab or carriage return can hide such a start.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * RFC 4180 quoting: a field with a comma, quote or line break is quoted, its quotes doubled. Text
 * a spreadsheet would run is written with a leading `'`, the usual mark of "text, not a formula";
 * numbers stay numbers (a negative one is no formula).
 */
export function csvField(value: unknown): string {
  let text = value === undefined || value === null ? '' : String(value);
  if (typeof value !== 'number' && FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvRow(fields: unknown[]): string {
  return fields.map(csvField).join(',');
}

export function csvHeader(): string {
  return csvRow([...CSV_COLUMNS]);
}

/** One line per record; several assets are joined with ";", nested values are JSON. */
export function csvRecord(record: StoredRecord): string {
  const facts = recordFacts(record);
  const analysis = listedAnalysis(record);
  return csvRow([
    record._id,
    analysis.name,
    analysis.version,
    (record.input?.asset_name ?? []).join(';'),
    record.dispatch_id,
    facts.started_at,
    facts.finished_at,
    JSON.stringify(facts.outputs),
    JSON.stringify(facts.parameters),
    record.location,
    facts.resources?.wall_time_s,
    facts.resources?.cpu_time_s,
    facts.resources?.peak_memory_mib,
  ]);
}
