import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { printable } from '../../src/client/terminal-text';
import {
  assetsSummary,
  csvField,
  csvHeader,
  csvRecord,
  outputsSummary,
  resourcesSummary,
  resultsTable,
} from '../../src/client/results/format';
import { buildRecord } from '../../src/aind/metadata';
import type { FlatAnalysisRecord, Task } from '../../src/types';

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
    assert.match(table, /one, two \+1 more/);
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

  test("a run's measured resources show in the table and in their own CSV columns", () => {
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
    assert.equal(resourcesSummary(measured.run_resources), '2.5 s, cpu 1.988 s, 201.3 MiB');
    assert.equal(resourcesSummary({ wall_time_s: 0.5 }), '0.5 s');
    assert.equal(resourcesSummary(undefined), '');
    assert.match(resultsTable([measured]), /│ resources +│/);
    assert.match(resultsTable([measured]), /2\.5 s, cpu 1\.988 s, 201\.3 MiB/);
    const [row] = parse(`${csvHeader()}\n${csvRecord(measured)}\n`, { columns: true }) as Array<
      Record<string, string>
    >;
    assert.deepEqual([row!.wall_time_s, row!.cpu_time_s, row!.peak_memory_mib], ['2.5', '1.98765', '201.3']);
  });
});
