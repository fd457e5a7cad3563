import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import type { Estimate } from '../../src/client/estimate';
import type { UsageRow } from '../../src/client/usage';
import type { StoredRecord } from '../../src/types';
import { runCli } from '../helpers/cli';
import { seedAssets, writeSpec } from '../helpers/data';
import { FIXTURE_ANALYSES, testStack, type TestStack } from '../helpers/stack';

/** Cost before a dispatch (the `plan` estimate) and after (`usage`), from the records of a real one. */
describe('cost before and after: the plan estimate and usage', () => {
  let stack: TestStack;
  let dir: string;
  let dispatchId: string;
  const query = '{"name": {"$regex": "^cost_"}}';
  const sleep = (version: string) =>
    writeSpec(
      dir,
      [{ analysis_name: 'Sleep', analysis_version: version, analysis_parameters: { ms: 400 } }],
      `sleep-${version}.json`,
    );
  const plan = async (spec: string, ...flags: string[]) => {
    const result = await runCli(
      ['plan', '--query', query, '--analysis_spec', spec, '--json', ...flags],
      stack.env,
    );
    assert.equal(result.code, 0, result.stderr);
    return (JSON.parse(result.stdout) as { estimate: Estimate }).estimate;
  };
  const usage = async (...flags: string[]) => {
    const result = await runCli(['usage', '--json', ...flags], stack.env);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as { since: string; by: string; rows: UsageRow[] };
  };

  before(async () => {
    stack = await testStack('cost');
    stack.env.ANALYSIS_MODULES_DIR = FIXTURE_ANALYSES;
    await stack.startWorker({ ANALYSIS_MODULES_DIR: FIXTURE_ANALYSES });
    await seedAssets(stack, { count: 4, namePrefix: 'cost' });
    dir = mkdtempSync(join(tmpdir(), 'cost-'));
    const before = await plan(sleep('1'));
    assert.deepEqual(
      before.analyses.map((a) => [a.tasks, a.basis]),
      [[4, 'no history']],
    );
    const run = await runCli(
      ['dispatch', '--query', query, '--analysis_spec', sleep('1'), '--wait', '--json'],
      stack.env,
    );
    assert.equal(run.code, 0, run.stderr + run.stdout);
    dispatchId = (JSON.parse(run.stdout) as { dispatch_id: string }).dispatch_id;
  });
  after(async () => stack?.close());

  test('plan estimates from the same version, else the analysis, else says "no history"', async () => {
    const same = await plan(sleep('1'), '--force', '1', '--num_parallel_workers', '2');
    const [sleepSame] = same.analyses;
    assert.equal(sleepSame?.basis, 'same version');
    assert.equal(sleepSame?.tasks, 4);
    assert.equal(sleepSame?.history_records, 4);
    assert.ok(
      sleepSame!.median_task_s! >= 0.4 && sleepSame!.median_task_s! < 10,
      `${sleepSame?.median_task_s}`,
    );
    assert.ok(sleepSame!.p90_task_s! >= sleepSame!.median_task_s!);
    assert.ok(same.cpu_hours > 0);
    // Four tasks over two parallel jobs: half the task time.
    assert.ok(Math.abs(same.wall_hours - sleepSame!.task_hours! / 2) < 0.001, JSON.stringify(same));
    assert.equal(same.num_parallel_workers, 2);

    const other = await plan(sleep('2'));
    assert.equal(other.analyses[0]?.basis, 'other versions');
    assert.equal(other.analyses[0]?.history_records, 4);

    const noop = writeSpec(dir, [{ analysis_name: 'Noop', analysis_version: '1' }], 'noop.json');
    const none = await plan(noop);
    assert.deepEqual(none.analyses[0], {
      analysis_name: 'Noop',
      analysis_version: '1',
      tasks: 4,
      basis: 'no history',
      history_records: 0,
    });
    assert.equal(none.tasks_without_history, 4);

    const text = await runCli(
      ['plan', '--query', query, '--analysis_spec', sleep('1'), '--force', '1'],
      stack.env,
    );
    assert.match(text.stdout, /^estimate at 50 parallel jobs: [\d.]+ CPU-hours, about [\d.]+ h wall time$/m);
    assert.match(
      text.stdout,
      /^ {2}Sleep 1: 4 tasks, median [\d.]+ s, p90 [\d.]+ s per task \(4 records of this version\), [\d.]+ CPU-hours$/m,
    );
  });

  test('usage sums tasks, CPU-hours, wall-hours and the bytes written, by experimenter, analysis or dispatch', async () => {
    const byAnalysis = await usage('--by', 'analysis');
    const sleepRow = byAnalysis.rows.find((row) => row.key === 'Sleep');
    assert.equal(sleepRow?.tasks, 4);
    assert.ok(sleepRow!.wall_hours >= (4 * 0.4) / 3600, JSON.stringify(sleepRow));
    assert.ok(sleepRow!.cpu_hours > 0);

    // The bytes written are those of the result files in S3.
    const records = await stack.mongo
      .db(stack.config.DOCDB_DATABASE)
      .collection<StoredRecord>(stack.config.DOCDB_COLLECTION)
      .find()
      .toArray();
    let bytes = 0;
    for (const record of records) {
      const [, , bucket, ...prefix] = record.location.split('/');
      for (const file of record.files) {
        const head = await stack.s3.send(
          new HeadObjectCommand({ Bucket: bucket, Key: [...prefix, file].join('/') }),
        );
        bytes += head.ContentLength ?? 0;
      }
    }
    assert.ok(bytes > 0);
    assert.equal(sleepRow?.bytes_written, bytes);

    const byPerson = await usage();
    assert.equal(byPerson.by, 'experimenter');
    assert.deepEqual(
      byPerson.rows.map((row) => [row.key, row.tasks]),
      [[userInfo().username, 4]],
    );
    const byDispatch = await usage('--by', 'dispatch', '--since', '1h');
    assert.deepEqual(
      byDispatch.rows.map((row) => [row.key, row.tasks]),
      [[dispatchId, 4]],
    );
    assert.deepEqual((await usage('--since', '2999-01-01')).rows, []);

    const csv = await runCli(['usage', '--by', 'analysis', '--csv'], stack.env);
    assert.equal(csv.code, 0, csv.stderr);
    const [header, row] = csv.stdout.trim().split('\n');
    assert.equal(header, 'analysis,tasks,cpu_hours,wall_hours,bytes_written,cpu_measured');
    assert.match(row ?? '', new RegExp(`^Sleep,4,[\\d.]+,[\\d.]+,${bytes},\\d$`));
    const table = await runCli(['usage', '--by', 'analysis'], stack.env);
    assert.match(table.stdout, /runs recorded since .*, by analysis/);
    assert.match(table.stdout, /Sleep.*│ 4 /);
  });

  test('bad input: --since and --by name what they take, exit 2', async () => {
    const since = await runCli(['usage', '--since', 'last month'], stack.env);
    assert.equal(since.code, 2);
    assert.match(
      since.stderr,
      /--since must be a period like 30d, 12h or 2w, or a date like 2026-11-01, got "last month"/,
    );
    const by = await runCli(['usage', '--by', 'team'], stack.env);
    assert.equal(by.code, 2);
    assert.match(by.stderr, /--by must be one of experimenter, analysis, dispatch, got "team"/);
  });
});
