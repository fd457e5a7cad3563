import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli';
import { writeSpec } from '../helpers/data';
import { ROOT, testStack, type TestStack } from '../helpers/stack';
import type { PlanSummary, Task, TaskStatus } from '../../src/types';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'analyses');

interface PlanJson {
  summary: PlanSummary;
  tasks: Array<{ task: Task; status: TaskStatus; group_metadata: Record<string, unknown> | null }>;
}

/**
 * Selection through the real CLI on the local stack: what `plan --json` says it would run, and
 * what a dispatch then records.
 */
describe('selection', () => {
  let stack: TestStack;
  let dir: string;
  let spec: string;

  const assets = () =>
    stack.mongo.db(stack.config.ASSETS_DATABASE).collection(stack.config.ASSETS_COLLECTION);
  /** A fresh catalogue for one test: these documents, each asset with the given files in the bucket. */
  async function catalogue(docs: Array<Record<string, unknown>>): Promise<void> {
    await assets().deleteMany({});
    await assets().insertMany(
      docs.map((doc) => ({
        location: `s3://${stack.bucket}/data/${String(doc._id)}`,
        name: doc._id,
        ...doc,
      })),
    );
  }
  async function plan(...args: string[]): Promise<PlanJson> {
    const result = await runCli(['plan', '--analysis_spec', spec, '--json', ...args], stack.env);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as PlanJson;
  }
  const assetsOf = (planned: PlanJson) => planned.tasks.map(({ task }) => task.input.asset_name.join('+'));

  before(async () => {
    stack = await testStack('selection');
    stack.env.ANALYSIS_MODULES_DIR = FIXTURES;
    await stack.startWorker({ ANALYSIS_MODULES_DIR: FIXTURES });
    dir = mkdtempSync(join(tmpdir(), 'selection-'));
    spec = writeSpec(dir, [{ analysis_name: 'Noop', analysis_version: '1' }]);
  });
  after(async () => stack?.close());

  test("the upstream dispatcher's names: --docdb_query, --use_data_asset_csv, --input_directory", async () => {
    await catalogue([{ _id: 'a1' }, { _id: 'a2' }, { _id: 'a3' }]);
    assert.deepEqual(assetsOf(await plan('--docdb_query', '{"_id": {"$in": ["a1", "a3"]}}')), ['a1', 'a3']);

    const data = join(dir, 'capsule-data');
    mkdirSync(data);
    writeFileSync(join(data, 'assets.csv'), 'asset_id\na2\n');
    writeFileSync(
      join(data, 'analysis_parameters.json'),
      JSON.stringify({ distributed_parameters: [{ window: 1 }, { window: 2 }] }),
    );
    const fromDir = await plan('--use_data_asset_csv', '1', '--input_directory', data);
    assert.deepEqual(assetsOf(fromDir), ['a2', 'a2']);
    assert.deepEqual(
      fromDir.tasks.map(({ task }) => task.parameters),
      [{ window: 1 }, { window: 2 }],
    );
  });

  test('the cap counts what will run: a rerun with the same cap moves on to the next tasks', async () => {
    await catalogue(['c1', 'c2', 'c3', 'c4', 'c5'].map((_id) => ({ _id })));
    const capped = ['--query', '{}', '--max_number_of_tasks_dispatched', '2'];
    const first = await runCli(['dispatch', ...capped, '--analysis_spec', spec, '--wait'], stack.env);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    assert.match(first.stdout, /3 of 5 tasks to run left out by --max_number_of_tasks_dispatched 2/);
    const records = stack.mongo.db(stack.config.DOCDB_DATABASE).collection(stack.config.DOCDB_COLLECTION);
    assert.deepEqual((await records.find({}).toArray()).map((record) => record.input.asset_name[0]).sort(), [
      'c1',
      'c2',
    ]);

    const next = await plan(...capped);
    assert.deepEqual(
      next.tasks.map(({ task, status, will_run }) => [task.input.asset_name[0], status, will_run]),
      [
        ['c1', 'done', false],
        ['c2', 'done', false],
        ['c3', 'new', true],
        ['c4', 'new', true],
        ['c5', 'new', false],
      ],
    );
    assert.equal(next.summary.tasks_to_run, 2);
    assert.equal(next.summary.capped_from, 3);
    const text = await runCli(['plan', ...capped, '--analysis_spec', spec], stack.env);
    assert.match(text.stdout, /1 of 3 tasks to run left out by --max_number_of_tasks_dispatched 2/);
    await records.deleteMany({});
  });

  test('schedule create --interval, with the offset the Temporal CLI takes', async () => {
    await catalogue([{ _id: 'a1' }]);
    const id = `interval-${stack.name}`;
    const created = await runCli(
      [
        'schedule',
        'create',
        id,
        '--query',
        '{}',
        '--analysis_spec',
        spec,
        '--interval',
        '1h/15m',
        '--paused',
      ],
      stack.env,
    );
    try {
      assert.equal(created.code, 0, created.stderr);
      assert.match(created.stdout, /every 1h \(offset 15m\)/);
      const described = await stack.client.schedule.getHandle(id).describe();
      assert.deepEqual(
        described.spec.intervals?.map(({ every, offset }) => [every, offset]),
        [[3_600_000, 900_000]],
      );
    } finally {
      await runCli(['schedule', 'delete', id], stack.env);
    }
  });
});
