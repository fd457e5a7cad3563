import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { mapWithConcurrency } from '../../src/concurrency';
import { folderOf } from '../../src/storage/task-commit';
import { METADATA_FILE } from '../../src/task-record';
import type { ChangedInput } from '../../src/input-digest';
import type { AnalysisRecord, PlanSummary, Task, TaskStatus } from '../../src/types';
import { runCli } from '../helpers/cli';
import { writeSpec } from '../helpers/data';
import { FIXTURE_ANALYSES, testStack, type TestStack } from '../helpers/stack';

interface PlanJson {
  summary: PlanSummary;
  tasks: Array<{ task: Task; status: TaskStatus; will_run: boolean; changed_inputs?: ChangedInput[] }>;
}

/**
 * Inputs that changed since a task's record, through the real CLI on the local stack: reported by
 * `plan`, left alone by a plain dispatch, rerun (and their records replaced) with
 * `--rerun_changed_inputs 1`.
 */
describe('changed inputs', () => {
  let stack: TestStack;
  let spec: string;

  const records = () =>
    stack.mongo.db(stack.config.DOCDB_DATABASE).collection<AnalysisRecord>(stack.config.DOCDB_COLLECTION);
  const assets = () =>
    stack.mongo.db(stack.config.ASSETS_DATABASE).collection(stack.config.ASSETS_COLLECTION);

  /** A fresh catalogue and records: these assets, each with these objects under data/<asset>/. */
  async function catalogue(files: Record<string, string[]>): Promise<void> {
    await assets().deleteMany({});
    await records().deleteMany({});
    await assets().insertMany(
      Object.keys(files).map((name) => ({
        _id: name as never,
        name,
        location: `s3://${stack.bucket}/data/${name}`,
      })),
    );
    await put(
      Object.entries(files).flatMap(([name, paths]) => paths.map((path) => `${name}/${path}`)),
      'v1',
    );
  }
  /** Writes data/<path> for each path, its body naming the path and `version`. */
  async function put(paths: string[], version: string): Promise<void> {
    await mapWithConcurrency(paths, 16, (path) =>
      stack.s3.send(
        new PutObjectCommand({ Bucket: stack.bucket, Key: `data/${path}`, Body: `${path} ${version}\n` }),
      ),
    );
  }
  async function plan(...args: string[]): Promise<PlanJson> {
    const result = await runCli(['plan', '--analysis_spec', spec, '--json', ...args], stack.env);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as PlanJson;
  }
  async function dispatch(...args: string[]): Promise<string> {
    const result = await runCli(['dispatch', '--analysis_spec', spec, '--wait', ...args], stack.env);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    return result.stdout;
  }
  /** Each record's dispatch id and input digest, by the first input's path under data/. */
  async function recordsByInput(): Promise<Map<string, AnalysisRecord>> {
    const all = await records().find({}).toArray();
    const pathOf = (record: AnalysisRecord) =>
      (record.input.file_location[0] ?? record.input.s3_location[0] ?? '').replace(
        `s3://${stack.bucket}/data/`,
        '',
      );
    return new Map(all.map((record) => [pathOf(record), record]));
  }
  async function uploadedCopy(record: AnalysisRecord): Promise<AnalysisRecord> {
    // Where the record says its objects are: a rerun's sit beside the earlier run's.
    const { bucket, prefix } = folderOf(record.location);
    const object = await stack.s3.send(new GetObjectCommand({ Bucket: bucket, Key: prefix + METADATA_FILE }));
    return JSON.parse(await object.Body!.transformToString()) as AnalysisRecord;
  }

  before(async () => {
    stack = await testStack('changedinputs');
    stack.env.ANALYSIS_MODULES_DIR = FIXTURE_ANALYSES;
    await stack.startWorker({ ANALYSIS_MODULES_DIR: FIXTURE_ANALYSES });
    const dir = mkdtempSync(join(tmpdir(), 'changed-inputs-'));
    spec = writeSpec(dir, [{ analysis_name: 'Noop', analysis_version: '1' }]);
  });
  after(async () => stack?.close());

  test('a replaced file is reported by plan and rerun alone with --rerun_changed_inputs 1', async () => {
    await catalogue({ f1: ['units.csv', 'notes.txt'], f2: ['units.csv'], f3: ['units.csv'] });
    const selection = ['--query', '{}', '--file_extension', '.csv'];
    await dispatch(...selection);
    const first = await recordsByInput();
    assert.deepEqual([...first.keys()].sort(), ['f1/units.csv', 'f2/units.csv', 'f3/units.csv']);
    for (const record of first.values()) {
      assert.equal(record.input_fingerprints?.length, 1);
      assert.match(record.input_fingerprints[0]!.etag ?? '', /\w/);
      assert.equal((await uploadedCopy(record)).input_digest, record.input_digest);
    }

    // Another file beside the input changes nothing; the input itself, rewritten, does.
    await put(['f1/notes.txt', 'f2/units.csv'], 'v2');
    const planned = await plan(...selection);
    assert.equal(planned.summary.tasks_changed_inputs, 1);
    assert.equal(planned.summary.tasks_done, 3);
    assert.equal(planned.summary.tasks_to_run, 0);
    // --json names the input and its fingerprint then and now.
    const [changed, ...others] = planned.tasks.filter(({ changed_inputs }) => changed_inputs);
    assert.equal(others.length, 0);
    assert.deepEqual(
      changed!.changed_inputs!.map(({ url }) => url),
      [`s3://${stack.bucket}/data/f2/units.csv`],
    );
    assert.equal(
      changed!.changed_inputs![0]!.recorded.etag,
      first.get('f2/units.csv')!.input_fingerprints![0]!.etag,
    );
    assert.notEqual(changed!.changed_inputs![0]!.current.etag, changed!.changed_inputs![0]!.recorded.etag);
    assert.match(
      planned.summary.warnings.join('\n'),
      /1 done tasks have an input that changed.*--rerun_changed_inputs 1/,
    );
    const text = await runCli(['plan', '--analysis_spec', spec, ...selection], stack.env);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^1 done tasks have an input that changed since their record$/m);
    const rerunPlan = await plan(...selection, '--rerun_changed_inputs', '1');
    assert.deepEqual(
      rerunPlan.tasks.map(({ task, will_run }) => [task.input.asset_name[0], will_run, task.replace_record]),
      [
        ['f1', false, undefined],
        ['f2', true, true],
        ['f3', false, undefined],
      ],
    );

    // Without the flag the changed task stays done.
    await dispatch(...selection);
    assert.deepEqual(
      [...(await recordsByInput()).values()].map((record) => record.dispatch_id),
      [...first.values()].map((record) => record.dispatch_id),
    );

    // Kebab-case works too.
    const out = await dispatch(...selection, '--rerun-changed-inputs', '1');
    assert.match(out, /^1 to run in 1 jobs$/m);
    const second = await recordsByInput();
    assert.equal(second.size, 3);
    for (const path of ['f1/units.csv', 'f3/units.csv'])
      assert.deepEqual(second.get(path), first.get(path), `${path} was not rerun`);
    const replaced = second.get('f2/units.csv')!;
    const before = first.get('f2/units.csv')!;
    assert.equal(replaced._id, before._id, 'the identity hash does not change');
    assert.notEqual(replaced.dispatch_id, before.dispatch_id);
    assert.notEqual(replaced.input_digest, before.input_digest);
    assert.notEqual(replaced.input_fingerprints![0]!.etag, before.input_fingerprints![0]!.etag);
    assert.equal((await uploadedCopy(replaced)).dispatch_id, replaced.dispatch_id);
    assert.equal((await plan(...selection)).summary.tasks_changed_inputs, 0);

    // A record of an earlier format (no fingerprints) counts as unchanged.
    await records().updateOne(
      { _id: first.get('f3/units.csv')!._id },
      { $unset: { input_fingerprints: '', input_digest: '' } },
    );
    await put(['f3/units.csv'], 'v3');
    const old = await plan(...selection, '--rerun_changed_inputs', '1');
    assert.equal(old.summary.tasks_changed_inputs, 0);
    assert.equal(old.summary.tasks_to_run, 0);
  });

  test('a .zarr folder with a chunk rewritten or added is reported and rerun', async () => {
    const store = ['x.zarr/.zattrs', 'x.zarr/.zgroup', 'x.zarr/data/0.0', 'x.zarr/data/0.1'];
    await catalogue({ z1: store, z2: store, z3: store });
    const selection = ['--query', '{}', '--file_extension', '.zarr'];
    await dispatch(...selection);
    const first = await recordsByInput();
    assert.deepEqual([...first.keys()].sort(), ['z1/x.zarr', 'z2/x.zarr', 'z3/x.zarr']);
    const fingerprint = first.get('z1/x.zarr')!.input_fingerprints![0]!;
    assert.equal(fingerprint.objects, 4);
    assert.match(fingerprint.digest ?? '', /^[0-9a-f]{64}$/);

    await put(['z1/x.zarr/data/0.1'], 'v2');
    await put(['z2/x.zarr/data/1.0'], 'v1');
    const planned = await plan(...selection);
    assert.equal(planned.summary.tasks_changed_inputs, 2);
    assert.equal(planned.summary.tasks_to_run, 0);
    assert.deepEqual(
      planned.tasks.map(({ changed_inputs }) =>
        changed_inputs?.map(({ recorded, current }) => [recorded.objects, current.objects]),
      ),
      [[[4, 4]], [[4, 5]], undefined],
    );

    await dispatch(...selection, '--rerun_changed_inputs', '1');
    const second = await recordsByInput();
    assert.deepEqual(second.get('z3/x.zarr'), first.get('z3/x.zarr'));
    for (const path of ['z1/x.zarr', 'z2/x.zarr']) {
      assert.notEqual(second.get(path)!.dispatch_id, first.get(path)!.dispatch_id, `${path} reran`);
      assert.notEqual(second.get(path)!.input_digest, first.get(path)!.input_digest);
    }
    assert.equal(second.get('z2/x.zarr')!.input_fingerprints![0]!.objects, 5);
    assert.equal((await plan(...selection)).summary.tasks_changed_inputs, 0);
  });

  test('without --file_extension the asset prefix is the input: an object added under it counts', async () => {
    await catalogue({ a1: ['raw/0.bin'], a2: ['raw/0.bin'] });
    await dispatch('--query', '{}');
    await put(['a2/raw/1.bin'], 'v1');
    const planned = await plan('--query', '{}');
    assert.equal(planned.summary.tasks_changed_inputs, 1);
    const rerun = await plan('--query', '{}', '--rerun_changed_inputs', '1');
    assert.deepEqual(
      rerun.tasks.map(({ task, will_run }) => [task.input.asset_name[0], will_run]),
      [
        ['a1', false],
        ['a2', true],
      ],
    );
  });

  test('a schedule created with --rerun_changed_inputs 1 reruns a changed input on its next run', async () => {
    await catalogue({ s1: ['units.csv'], s2: ['units.csv'] });
    const selection = ['--query', '{}', '--file_extension', '.csv'];
    await dispatch(...selection);
    const first = await recordsByInput();
    await put(['s1/units.csv'], 'v2');
    const id = `changed-${stack.name}`;
    const schedule = (...args: string[]) => runCli(['schedule', ...args], stack.env);
    const made = await schedule(
      'create',
      id,
      '--analysis_spec',
      spec,
      ...selection,
      '--rerun_changed_inputs',
      '1',
      '--cron',
      '0 3 1 1 * 2099',
    );
    assert.equal(made.code, 0, made.stderr);
    try {
      const run = await schedule('trigger', id, '--wait', '--json');
      assert.equal(run.code, 0, run.stderr + run.stdout);
      const outcome = JSON.parse(run.stdout);
      assert.equal(outcome.progress.plan.tasks_changed_inputs, 1);
      assert.equal(outcome.progress.counts.succeeded, 1);
      const second = await recordsByInput();
      assert.equal(second.get('s1/units.csv')!.dispatch_id, outcome.dispatch_id);
      assert.deepEqual(second.get('s2/units.csv'), first.get('s2/units.csv'));
    } finally {
      await schedule('delete', id);
    }
  });

  test('--rerun_changed_inputs takes 0 or 1: anything else is a clear error, exit 2', async () => {
    for (const command of ['plan', 'dispatch']) {
      const result = await runCli(
        [command, '--analysis_spec', spec, '--query', '{}', '--rerun_changed_inputs', 'yes'],
        stack.env,
      );
      assert.equal(result.code, 2, result.stderr + result.stdout);
      assert.match(result.stderr, /--rerun_changed_inputs must be 0 or 1, got "yes"/);
    }
  });
});
