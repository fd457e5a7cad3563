import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { printable } from '../../src/client/terminal-text';
import {
  assetsSummary,
  csvField,
  csvHeader,
  csvRecord,
  minuteOf,
  outputsSummary,
  resultsTable,
} from '../../src/client/results/format';
import { buildRecord } from '../../src/aind/metadata';
import type { FlatAnalysisRecord, Task } from '../../src/types';

/** Columns a line takes on a terminal: wide (East Asian) characters take two. */
function displayWidth(line: string): number {
  return Array.from(line).reduce((sum, char) => sum + (/\p{Script=Han}/u.test(char) ? 2 : 1), 0);
}

/** A record as earlier versions wrote it. */
const record: FlatAnalysisRecord = {
  _id: 'ab'.repeat(32),
  name: 'ab'.repeat(32),
  location: `s3://bucket/${'ab'.repeat(32)}`,
  analysis_name: 'Unit Yield',
  analysis_version: 'v1',
  parameters: { note: 'a, "b"\nc' },
  input: { s3_location: [], asset_name: ['one', 'two', 'three'], docdb_record_id: [], file_location: [] },
  outputs: { units: 12, ratio: 0.123456, tags: ['x'] },
  code: {},
  libraries: {},
  dispatch_id: 'd1',
  worker_host: 'h',
  files: [],
  started_at: '2026-01-01T00:00:00.000Z',
  finished_at: '2026-01-01T00:00:01.000Z',
};

/** The same run, recorded as an aind-data-schema Metadata document. */
const task: Task = {
  hash: record._id,
  analysis: { ...spec(), s3_output_bucket: 'bucket' },
  parameters: record.parameters,
  input: record.input,
  libraries: {},
  location: record.location,
};
function spec() {
  return {
    analysis_name: 'Unit Yield',
    analysis_version: 'v1',
    analysis_libraries: [],
    analysis_parameters: {},
  };
}
const metadataRecord = buildRecord(
  task,
  {
    workerQueue: 'q',
    workDir: '/tmp/w',
    outputs: record.outputs,
    code: {},
    worker_host: 'h',
    started_at: record.started_at,
    finished_at: record.finished_at,
  },
  'd1',
  [],
);

describe('results-format', () => {
  test('outputsSummary shows key=value pairs, rounded and cut to fit a cell', () => {
    assert.equal(outputsSummary(record.outputs), 'units=12 ratio=0.1235 tags=["x"]');
    assert.equal(outputsSummary({ long: 'x'.repeat(100) }, 10), 'long=xxxx…');
    assert.equal(outputsSummary(undefined), '');
  });

  test('assetsSummary names two assets and counts the rest', () => {
    assert.equal(assetsSummary(['a']), 'a');
    assert.equal(assetsSummary(['a', 'b', 'c', 'd']), 'a, b +2 more');
  });

  test('resultsTable shows the hash prefix and the summary columns', () => {
    const table = resultsTable([record]);
    assert.match(table, /│ abababababab │/, 'a 12-character prefix of the hash in the first column');
    assert.match(table, /│ Unit Yield v1 │/);
    assert.match(table, /one, two \+1 more/);
    assert.match(table, /│ 2026-01-01 00:00 │/);
  });

  test('resultsTable fits 120 columns whatever the values, cutting the long ones at their end', () => {
    const long = {
      ...record,
      analysis_name: 'A Rather Long Analysis Name',
      analysis_version: 'v12.345.6789-rc1',
      location: `s3://a-results-bucket-with-a-long-name/and/a/prefix/${record._id}/run-0123456789abcdef`,
      input: {
        ...record.input,
        asset_name: ['behavior_741213_2024-03-02_10-00-00_processed_2024-03-03_08-30-00', '世界'.repeat(40)],
      },
      outputs: { units_total: 22, units_passing: 15, yield_fraction: 0.681818, note: 'x'.repeat(500) },
    };
    const table = resultsTable([long, record]);
    for (const line of table.split('\n'))
      assert.ok(displayWidth(line) <= 120, `${displayWidth(line)}: ${line}`);
    assert.match(table, /│ behavior_741213_2024-03/);
    assert.match(table, /…/);
  });

  test('minuteOf shows a time to the minute, and anything else as it is', () => {
    assert.equal(minuteOf('2026-12-07T07:57:39.051Z'), '2026-12-07 07:57');
    assert.equal(minuteOf('yesterday'), 'yesterday');
    assert.equal(minuteOf(undefined), '');
  });

  test('csvField quotes commas, quotes and line breaks only', () => {
    assert.equal(csvField('plain'), 'plain');
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField('two\nlines'), '"two\nlines"');
    assert.equal(csvField(undefined), '');
  });

  test('csvField writes text a spreadsheet would run with a leading quote; numbers stay numbers', () => {
    assert.equal(csvField('=HYPERLINK("http://x","y")'), '"\'=HYPERLINK(""http://x"",""y"")"');
    for (const text of ['=1+1', '+1', '-1', '@SUM(A1)', '\t=1', '\r=1'])
      assert.ok(csvField(text).replace(/^"/, '').startsWith("'"), JSON.stringify(text));
    assert.equal(csvField(-1.5), '-1.5');
    assert.equal(csvField('a=b'), 'a=b');
    const named = {
      ...record,
      analysis_name: '=cmd|" /C calc"!A0',
      input: { ...record.input, asset_name: ['@x'] },
    };
    const [row] = parse(`${csvHeader()}\n${csvRecord(named as typeof record)}\n`, { columns: true }) as Array<
      Record<string, string>
    >;
    assert.equal(row!.analysis_name, '\'=cmd|" /C calc"!A0');
    assert.equal(row!.asset_name, "'@x");
  });

  test('resultsTable shows names with escape codes as their codes', () => {
    const named = {
      ...record,
      analysis_name: 'red\u001b[31m\rX\u202e',
      input: { ...record.input, asset_name: ['a\u0007'] },
    };
    const table = resultsTable([named as typeof record]);
    assert.equal(printable(table), table, 'nothing left to escape');
    assert.match(table, /red\\x1b\[31m\\x0dX\\u202e/);
    assert.match(table, /a\\x07/);
  });

  test('csvRecord round-trips through a CSV parser', () => {
    const [row] = parse(`${csvHeader()}\n${csvRecord(record)}\n`, { columns: true }) as Array<
      Record<string, string>
    >;
    assert.equal(row!.hash, record._id);
    assert.equal(row!.asset_name, 'one;two;three');
    assert.deepEqual(JSON.parse(row!.parameters!), record.parameters);
    assert.deepEqual(JSON.parse(row!.outputs!), record.outputs);
  });

  test('a Metadata record shows as the flat record of the same run does', () => {
    assert.equal(csvRecord(metadataRecord), csvRecord(record));
    assert.equal(resultsTable([metadataRecord]), resultsTable([record]));
  });

  test("a run's measured resources are in their own CSV columns, and left out of the table", () => {
    const measured = buildRecord(
      task,
      {
        workerQueue: 'q',
        workDir: '/tmp/w',
        outputs: {},
        code: {},
        worker_host: 'h',
        started_at: record.started_at,
        finished_at: record.finished_at,
        resources: { wall_time_s: 2.5, cpu_time_s: 1.98765, peak_memory_mib: 201.3 },
      },
      'd1',
      [],
    );
    assert.doesNotMatch(resultsTable([measured]), /resources|201\.3/);
    const [row] = parse(`${csvHeader()}\n${csvRecord(measured)}\n`, { columns: true }) as Array<
      Record<string, string>
    >;
    assert.deepEqual([row!.wall_time_s, row!.cpu_time_s, row!.peak_memory_mib], ['2.5', '1.98765', '201.3']);
  });
});
