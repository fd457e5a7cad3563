import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { mapWithConcurrency } from '../../src/concurrency';
import { runCli } from '../helpers/cli';
import { writeSpec } from '../helpers/data';
import { ROOT, testStack, type TestStack } from '../helpers/stack';
import type { PlanSummary, Task, TaskStatus } from '../../src/types';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'analyses');

interface PlanJson {
  summary: PlanSummary;
  tasks: Array<{
    task: Task;
    status: TaskStatus;
    will_run: boolean;
    group_metadata: Record<string, unknown> | null;
  }>;
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
  /** Objects under each asset's prefix (data/<asset>/...), with a one-byte body. */
  async function put(files: Record<string, string[]>): Promise<void> {
    const keys = Object.entries(files).flatMap(([asset, paths]) =>
      paths.map((path) => `data/${asset}/${path}`),
    );
    await mapWithConcurrency(keys, 32, (Key) =>
      stack.s3.send(new PutObjectCommand({ Bucket: stack.bucket, Key, Body: Key.endsWith('/') ? '' : 'x' })),
    );
  }
  const inputsOf = (planned: PlanJson) =>
    planned.tasks.map(({ task }) =>
      task.input.file_location.map((url) => url.slice(`s3://${stack.bucket}/data/`.length)),
    );
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

  test('--file_extension .zarr finds folder-shaped inputs, never their chunks', async () => {
    await catalogue(['flat', 'nested', 'mixed', 'big', 'none'].map((_id) => ({ _id })));
    const chunks = (store: string, count: number) =>
      Array.from({ length: count }, (_, i) => `${store}/acquisition/${Math.floor(i / 10)}.${i % 10}`);
    await put({
      flat: ['x.nwb.zarr/.zattrs', 'x.nwb.zarr/.zgroup', ...chunks('x.nwb.zarr', 30), 'y.zarr/'],
      // A zarr inside a matched one is part of it; one in a plain folder is an input of its own.
      nested: [
        'outer.zarr/.zattrs',
        'outer.zarr/inner.zarr/.zattrs',
        ...chunks('outer.zarr/inner.zarr', 5),
        'plain/deep.ome.zarr/0/0',
      ],
      // Next to plain files, an object named like a zarr, and names that only start like one.
      mixed: ['c.zarr', 'a.zarr/0', 'a.zarr2/0', 'a.zarr.bak/0', 'notes.txt', 'b.zarr/0', 'b.zarr-old/0'],
      // More chunks than one listing page holds: the walk jumps past the rest of the store.
      big: [...chunks('s.zarr', 1_050), 't.zarr/0'],
      none: ['notes.txt'],
    });
    const planned = await plan('--query', '{}', '--file_extension', '.zarr');
    assert.deepEqual(inputsOf(planned), [
      ['big/s.zarr'],
      ['big/t.zarr'],
      ['flat/x.nwb.zarr'],
      ['flat/y.zarr'],
      ['mixed/a.zarr'],
      ['mixed/b.zarr'],
      ['mixed/c.zarr'],
      ['nested/outer.zarr'],
      ['nested/plain/deep.ome.zarr'],
    ]);
    assert.equal(planned.summary.assets_without_files, 1);
    const whole = await plan('--query', '{}', '--file_extension', '.nwb.zarr', '--split_files', '0');
    assert.deepEqual(inputsOf(whole), [['flat/x.nwb.zarr']]);
    const ome = await plan('--query', '{"_id": "nested"}', '--file_extension', '.ome.zarr');
    assert.deepEqual(inputsOf(ome), [['nested/plain/deep.ome.zarr']]);
    // Flat files are found as before.
    assert.deepEqual(inputsOf(await plan('--query', '{}', '--file_extension', '.txt')), [
      ['mixed/notes.txt'],
      ['none/notes.txt'],
    ]);
  });

  test('--filter_latest keeps the newest asset of each --filter_by group, by query and by CSV', async () => {
    const day = (d: string) => new Date(`2024-${d}T00:00:00Z`);
    await catalogue([
      { _id: 'a', subject: { id: 's1' }, project: 'P', created: day('01-01') },
      { _id: 'b', subject: { id: 's1' }, project: 'P', created: day('03-01') },
      { _id: 'c', subject: { id: 's1' }, project: 'P' },
      { _id: 'd', subject: { id: 's2' }, project: 'Q', created: day('02-01') },
      { _id: 'e', subject: { id: 's2' }, project: 'P', created: day('02-01') },
      { _id: 'f', project: 'Q', created: day('06-01') },
      { _id: 'g', subject: { id: null }, created: day('05-01') },
    ]);
    const latest = ['--filter_latest', 'created', '--filter_by', 'subject.id'];
    const dropped = await plan('--query', '{}', ...latest);
    // Of equal dates the highest _id wins, so that planning twice keeps the same asset.
    assert.deepEqual(assetsOf(dropped), ['b', 'e']);
    assert.match(
      dropped.summary.warnings.join('\n'),
      /2 selected assets have no value for subject\.id: left out before --filter_latest/,
    );
    // Missing and null are one group, whose newest is f.
    assert.deepEqual(assetsOf(await plan('--query', '{}', ...latest, '--drop_null_groups', '0')), [
      'b',
      'e',
      'f',
    ]);
    assert.deepEqual(assetsOf(await plan('--query', '{"project": "P"}', ...latest)), ['b', 'e']);
    assert.deepEqual(assetsOf(await plan('--query', '{"project": "Q"}', ...latest)), ['d']);
    // Before grouping: the newest per subject, then one task per project.
    const grouped = await plan('--query', '{}', ...latest, '--group_by', 'project');
    assert.deepEqual(assetsOf(grouped), ['b+e']);

    const csv = join(dir, 'latest.csv');
    writeFileSync(csv, 'asset_id\na\nc\nd\n');
    assert.deepEqual(assetsOf(await plan('--use_data_assets', '1', '--asset_csv', csv, ...latest)), [
      'a',
      'd',
    ]);
    // More ids than the server is asked to match: matched here, over one pass of the collection.
    const many = join(dir, 'many.csv');
    writeFileSync(
      many,
      ['asset_id', ...Array.from({ length: 1_500 }, (_, i) => `none-${i}`), 'a', 'b', 'd'].join('\n'),
    );
    const fromMany = await plan('--use_data_assets', '1', '--asset_csv', many, ...latest);
    assert.deepEqual(assetsOf(fromMany), ['b', 'd']);
    assert.match(fromMany.summary.warnings.join('\n'), /1500 of 1503 ids in --asset_csv matched no asset/);
    assert.deepEqual(assetsOf(await plan('--use_data_assets', '1', '--asset_csv', many)), ['a', 'b', 'd']);

    const alone = await runCli(
      ['plan', '--query', '{}', '--analysis_spec', spec, '--filter_latest', 'created'],
      stack.env,
    );
    assert.equal(alone.code, 2);
    assert.match(alone.stderr, /--filter_latest created needs --filter_by F1\[,F2\]/);
  });

  test('--unwind_list_fields and --drop_null_groups: memberships and empty groups, counted; group_metadata', async () => {
    await catalogue([
      { _id: 'm1', subject: { id: 's1' }, tags: ['x', 'y'] },
      { _id: 'm2', subject: { id: 's1' }, tags: 'x' },
      { _id: 'm3', subject: { id: 's2' }, tags: [] },
      { _id: 'm4', tags: ['y'] },
    ]);
    const byTag = await plan(
      '--query',
      '{}',
      '--group_by',
      'tags,subject.id',
      '--unwind_list_fields',
      'tags',
    );
    assert.deepEqual(
      byTag.tasks.map(({ task, group_metadata }) => [task.input.asset_name, task.group, group_metadata]),
      [
        [['m1', 'm2'], { tags: 'x', 'subject.id': 's1' }, { tags: 'x', subject__id: 's1' }],
        [['m1'], { tags: 'y', 'subject.id': 's1' }, { tags: 'y', subject__id: 's1' }],
      ],
    );
    assert.match(
      byTag.summary.warnings.join('\n'),
      /2 assets have no value for tags or subject\.id: left out of the groups/,
    );
    const kept = await plan(
      '--query',
      '{}',
      '--group_by',
      'tags',
      '--unwind_list_fields',
      'tags',
      '--drop_null_groups',
      '0',
    );
    assert.deepEqual(
      kept.tasks.map(({ task, group_metadata }) => [task.input.asset_name, group_metadata]),
      [
        [['m1', 'm2'], { tags: 'x' }],
        [['m1', 'm4'], { tags: 'y' }],
        [['m3'], { tags: null }],
      ],
    );
    const ungrouped = await plan('--query', '{}');
    assert.ok(ungrouped.tasks.every(({ group_metadata }) => group_metadata === null));
  });

  test('parameter keys special to JavaScript objects are two tasks with two records, kept as written', async () => {
    await catalogue([{ _id: 'k1' }]);
    const parameters = join(dir, 'special.json');
    writeFileSync(
      parameters,
      '{"fixed_parameters": {"constructor": "c"}, "distributed_parameters": [{"__proto__": {"w": 1}}, {"__proto__": {"w": 2}}]}',
    );
    const planned = await plan('--query', '{}', '--analysis_parameters', parameters);
    assert.deepEqual(
      planned.tasks.map(({ task }) => JSON.stringify(task.parameters)),
      ['{"constructor":"c","__proto__":{"w":1}}', '{"constructor":"c","__proto__":{"w":2}}'],
    );
    const run = await runCli(
      ['dispatch', '--query', '{}', '--analysis_spec', spec, '--analysis_parameters', parameters, '--wait'],
      stack.env,
    );
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const records = stack.mongo.db(stack.config.DOCDB_DATABASE).collection(stack.config.DOCDB_COLLECTION);
    const stored = await records.find({}).toArray();
    assert.deepEqual(
      stored
        .map((record) => JSON.stringify(record.processing.data_processes[0].code.parameters.__proto__))
        .sort(),
      ['{"w":1}', '{"w":2}'],
    );
    assert.deepEqual(
      stored.map((record) => record._id).sort(),
      planned.tasks.map(({ task }) => task.hash).sort(),
    );
    await records.deleteMany({});

    writeFileSync(parameters, '{"distributed_parameters": [{"window.s": 1}]}');
    const refused = await runCli(
      ['plan', '--query', '{}', '--analysis_spec', spec, '--analysis_parameters', parameters],
      stack.env,
    );
    assert.equal(refused.code, 2);
    assert.match(
      refused.stderr,
      /distributed_parameters\[0\]: the key "window\.s" at window\.s cannot be stored/,
    );
  });

  test('--group_by a field named like a JavaScript property reads the field, not the property', async () => {
    await catalogue([{ _id: 'p1', constructor: 'x' }, { _id: 'p2', constructor: 'x' }, { _id: 'p3' }]);
    const planned = await plan('--query', '{}', '--group_by', 'constructor');
    assert.deepEqual(
      planned.tasks.map(({ task, group_metadata }) => [task.input.asset_name, group_metadata]),
      [[['p1', 'p2'], { constructor: 'x' }]],
    );
    assert.match(planned.summary.warnings.join('\n'), /1 assets have no value for constructor/);
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
