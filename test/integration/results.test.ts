import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { runCli } from '../helpers/cli';
import { seedAssets, writeSpec } from '../helpers/data';
import { ROOT, testStack, type TestStack } from '../helpers/stack';
import { buildRecord } from '../../src/aind/metadata';
import type { AnalysisRecord } from '../../src/types';
import { makeTask } from '../fixtures/tasks';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'analyses');
const QUERY = '{"name": {"$regex": "^asset_"}}';

describe('results', () => {
  let stack: TestStack;
  let dir: string;
  let sleepDispatch: string;
  let all: AnalysisRecord[];

  const results = (...args: string[]) => runCli(['results', ...args], stack.env);
  const json = async (...args: string[]): Promise<AnalysisRecord[]> => {
    const result = await results(...args, '--json');
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as AnalysisRecord[];
  };

  before(async () => {
    stack = await testStack('results');
    stack.env.ANALYSIS_MODULES_DIR = FIXTURES;
    await stack.startWorker({ ANALYSIS_MODULES_DIR: FIXTURES });
    dir = mkdtempSync(join(tmpdir(), 'results-test-'));
    await seedAssets(stack, { count: 3 });
    // Two versions of Noop, with a label that needs CSV quoting, then Sleep: 9 records, 2 dispatches.
    const label = 'a, "quoted"\nlabel';
    const noop = writeSpec(dir, [
      { analysis_name: 'Noop', analysis_version: '1.0.0', analysis_parameters: { label } },
      { analysis_name: 'Noop', analysis_version: '2.0.0', analysis_parameters: { label } },
    ]);
    const sleep = writeSpec(
      dir,
      [{ analysis_name: 'Sleep', analysis_version: '1', analysis_parameters: { ms: 1 } }],
      's.json',
    );
    for (const spec of [noop, sleep]) {
      const run = await runCli(
        ['dispatch', '--query', QUERY, '--analysis_spec', spec, '--wait', '--json'],
        stack.env,
      );
      assert.equal(run.code, 0, run.stderr + run.stdout);
      sleepDispatch = JSON.parse(run.stdout).dispatch_id;
    }
    all = await stack.mongo
      .db(stack.config.DOCDB_DATABASE)
      .collection<AnalysisRecord>(stack.config.DOCDB_COLLECTION)
      .find()
      .sort({ _id: 1 })
      .toArray();
    assert.equal(all.length, 9);
  });
  after(async () => stack?.close());

  test('filters by analysis name and version, asset name and dispatch id', async () => {
    assert.deepEqual(
      (await json()).map((r) => r._id),
      all.map((r) => r._id),
    );
    const v2 = await json('--analysis_name', 'Noop', '--analysis_version', '2.0.0');
    assert.deepEqual(
      v2.map((r) => r.analysis_version),
      ['2.0.0', '2.0.0', '2.0.0'],
    );
    const asset = await json('--asset_name', 'asset_0001');
    assert.equal(asset.length, 3);
    assert.ok(asset.every((r) => r.input.asset_name.includes('asset_0001')));
    const sleep = await json('--dispatch_id', sleepDispatch);
    assert.deepEqual(new Set(sleep.map((r) => r.analysis_name)), new Set(['Sleep']));
    assert.equal(sleep.length, 3);
    assert.deepEqual(await json('--analysis_name', 'Nothing'), []);
  });

  test('pages by cursor and by page number, with a next hint', async () => {
    const first = await results('--limit', '4', '--json');
    const page1 = JSON.parse(first.stdout) as AnalysisRecord[];
    assert.equal(page1.length, 4);
    assert.match(first.stderr, new RegExp(`next: --after ${page1[3]!._id}`));
    const page2 = await json('--limit', '4', '--after', page1[3]!._id);
    const page3 = await results('--limit', '4', '--page', '3', '--json');
    assert.doesNotMatch(page3.stderr, /next:/);
    const ids = [...page1, ...page2, ...(JSON.parse(page3.stdout) as AnalysisRecord[])].map((r) => r._id);
    assert.deepEqual(
      ids,
      all.map((r) => r._id),
    );
    assert.deepEqual(
      (await json('--limit', '4', '--page', '2')).map((r) => r._id),
      page2.map((r) => r._id),
    );
    const past = await results('--page', '9', '--json');
    assert.equal(past.code, 0);
    assert.match(past.stderr, /past the last record/);
  });

  test('prints a table and a CSV that quotes properly', async () => {
    const table = await results('--limit', '5');
    assert.equal(table.code, 0, table.stderr);
    assert.ok(table.stdout.includes(all[0]!._id.slice(0, 12)));
    assert.match(table.stdout, /finished_at/);
    assert.match(table.stdout, /next: --after /);

    const csv = await results('--csv');
    assert.equal(csv.code, 0, csv.stderr);
    const rows = parse(csv.stdout, { columns: true }) as Array<Record<string, string>>;
    assert.equal(rows.length, 9);
    const noop = rows.find((row) => row.analysis_name === 'Noop')!;
    assert.deepEqual(JSON.parse(noop.parameters!), { label: 'a, "quoted"\nlabel' });
    const sleep = rows.find((row) => row.analysis_name === 'Sleep')!;
    assert.equal(typeof JSON.parse(sleep.outputs!).slept_ms, 'number');
    assert.equal(sleep.dispatch_id, sleepDispatch);
  });

  test('downloads the result files of one record, or of every listed record', async () => {
    const target = mkdtempSync(join(tmpdir(), 'results-dl-'));
    const record = all.find((r) => r.analysis_name === 'Noop')!;
    const one = await results('--download', target, '--hash', record._id.slice(0, 16));
    assert.equal(one.code, 0, one.stderr);
    assert.equal(readFileSync(join(target, record._id, 'noop.txt'), 'utf8'), 'ok\n');
    assert.equal(
      JSON.parse(readFileSync(join(target, record._id, 'metadata.nd.json'), 'utf8'))._id,
      record._id,
    );

    const many = await results('--download', target, '--dispatch_id', sleepDispatch);
    assert.equal(many.code, 0, many.stderr);
    for (const r of all.filter((x) => x.dispatch_id === sleepDispatch)) {
      assert.ok(existsSync(join(target, r._id, 'slept.txt')), `slept.txt of ${r._id}`);
    }
    assert.equal(readdirSync(target).length, 4);
  });

  test('refuses bad flags with a clear message', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--json', '--csv'], /--json or --csv/],
      [['--page', '2', '--after', 'abc'], /--page or --after/],
      [['--limit', '0'], /--limit must be a whole number/],
      [['--page', 'x'], /--page must be a whole number/],
      [['--hash', 'abc'], /--hash selects a record for --download/],
      [['--download', dir, '--hash', 'ffffffffffff'], /no record with hash/],
    ];
    for (const [args, message] of cases) {
      const result = await results(...args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
  });

  test('prints a table of at most 120 columns whatever the values, and --json and --csv whole', async () => {
    // Records as workers write them, with the long values of real ones: session names, a bucket
    // with a prefix, a rerun's folder, many outputs.
    const asset = 'behavior_741213_2024-03-02_10-00-00_processed_2024-03-03_08-30-00';
    const bucket = 'institute-analysis-results-bucket/behavior/lick-analyses';
    const made = [1, 2].map((n) => {
      const task = makeTask(
        {
          analysis_name: 'Lick Bouts With A Long Name',
          analysis_version: 'v1.0.0-beta.12',
          s3_output_bucket: bucket,
        },
        {
          parameters: { n },
          input: {
            s3_location: [`s3://open/${asset}`, `s3://open/${asset}-${n}`],
            asset_name: [asset, `${asset}-${n}`],
            docdb_record_id: ['a', 'b'],
            file_location: [],
          },
        },
      );
      const record = buildRecord(
        task,
        {
          workerQueue: 'q',
          workDir: '/tmp/w',
          outputs: {
            bout_count: 70,
            licks_in_bouts: 312,
            mean_bout_duration_s: 1.23456,
            note: 'n'.repeat(200),
          },
          code: {},
          worker_host: 'h',
          started_at: '2026-12-07T07:57:39.051Z',
          finished_at: '2026-12-07T07:57:44.178Z',
          resources: { wall_time_s: 0.725, cpu_time_s: 0.15, peak_memory_mib: 7.9 },
        },
        'long-values',
        ['bouts.csv'],
      );
      return { ...record, location: `${task.location}/run-0123456789abcdef` };
    });
    await stack.mongo
      .db(stack.config.DOCDB_DATABASE)
      .collection<AnalysisRecord>(stack.config.DOCDB_COLLECTION)
      .insertMany(made);

    const table = await results('--dispatch_id', 'long-values');
    assert.equal(table.code, 0, table.stderr);
    const lines = table.stdout.trimEnd().split('\n');
    for (const line of lines)
      assert.ok(Array.from(line).length <= 120, `${Array.from(line).length}: ${line}`);
    for (const record of made) assert.ok(table.stdout.includes(`│ ${record._id.slice(0, 12)} │`));
    assert.match(table.stdout, /│ behavior_741213_2024-03/);

    const listed = await json('--dispatch_id', 'long-values');
    assert.deepEqual(
      listed.map((r) => [r.location, r.input.asset_name, r.processing.data_processes[0]?.output_parameters]),
      made.map((r) => [r.location, r.input.asset_name, r.processing.data_processes[0]?.output_parameters]),
    );
    const csv = await results('--dispatch_id', 'long-values', '--csv');
    assert.equal(csv.code, 0, csv.stderr);
    const rows = parse(csv.stdout, { columns: true }) as Array<Record<string, string>>;
    assert.deepEqual(
      rows.map((row) => [row.location, row.asset_name, JSON.parse(row.outputs!), row.peak_memory_mib]),
      made.map((r) => [
        r.location,
        r.input.asset_name.join(';'),
        r.processing.data_processes[0]?.output_parameters,
        '7.9',
      ]),
    );
  });
});
