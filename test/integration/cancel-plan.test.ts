import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli';
import { seedAssets, writeSpec } from '../helpers/data';
import { listKeys, ROOT, testStack, type TestStack } from '../helpers/stack';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'analyses');

describe('plan, dry run, output_dir and cancel', () => {
  let stack: TestStack;
  let dir: string;
  const recordCount = () =>
    stack.mongo.db(stack.config.DOCDB_DATABASE).collection(stack.config.DOCDB_COLLECTION).countDocuments();

  before(async () => {
    stack = await testStack('cancelplan');
    stack.env.ANALYSIS_MODULES_DIR = FIXTURES;
    await stack.startWorker({ ANALYSIS_MODULES_DIR: FIXTURES });
    await seedAssets(stack, { count: 6, files: ['a.csv', 'b.csv', 'c.txt'] });
    dir = mkdtempSync(join(tmpdir(), 'cancel-plan-'));
  });
  after(async () => stack?.close());

  test('plan counts tasks without running anything; --json lists them', async () => {
    const spec = writeSpec(dir, [{ analysis_name: 'Noop', analysis_version: '1' }], 'plan.json');
    const result = await runCli(
      ['plan', '--query', '{}', '--file_extension', '.csv', '--analysis_spec', spec, '--json'],
      stack.env,
    );
    assert.equal(result.code, 0, result.stderr);
    const plan = JSON.parse(result.stdout);
    assert.equal(plan.summary.tasks_total, 12);
    assert.equal(plan.summary.tasks_new, 12);
    assert.equal(plan.tasks.length, 12);
    const text = await runCli(
      ['plan', '--query', '{}', '--file_extension', '.csv', '--split_files', '0', '--analysis_spec', spec],
      stack.env,
    );
    assert.match(text.stdout, /6 tasks from 6 assets: 6 new, 0 already done/);
    assert.equal(await recordCount(), 0);
  });

  test('--dry_run runs the analyses but writes no record and no object; --output_dir writes the tasks', async () => {
    const spec = writeSpec(dir, [{ analysis_name: 'Noop', analysis_version: 'dry' }], 'dry.json');
    const out = join(dir, 'tasks');
    const before = await listKeys(stack.s3, stack.bucket);
    const result = await runCli(
      [
        'dispatch',
        '--query',
        '{}',
        '--analysis_spec',
        spec,
        '--dry_run',
        '1',
        '--num_parallel_workers',
        '3',
        '--output_dir',
        out,
        '--wait',
        '--json',
      ],
      stack.env,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).progress.counts.succeeded, 6);
    assert.equal(await recordCount(), 0);
    assert.deepEqual(await listKeys(stack.s3, stack.bucket), before);
    const folders = readdirSync(out).sort();
    assert.deepEqual(folders, ['worker_0', 'worker_1', 'worker_2']);
    const files = folders.flatMap((folder) =>
      readdirSync(join(out, folder)).map((file) => join(out, folder, file)),
    );
    assert.equal(files.length, 6);
    const task = JSON.parse(readFileSync(files[0]!, 'utf8'));
    for (const key of ['s3_location', 'location_asset_id', 'file_extension_locations', 'asset_name'])
      assert.ok(key in task, `task file has ${key}`);
  });

  test('cancel stops the running jobs and waits for them; nothing is recorded', async () => {
    const spec = writeSpec(
      dir,
      [{ analysis_name: 'Sleep', analysis_version: 'cancel', analysis_parameters: { ms: 120000 } }],
      'cancel.json',
    );
    const started = await runCli(
      ['dispatch', '--query', '{}', '--analysis_spec', spec, '--num_parallel_workers', '3', '--json'],
      stack.env,
    );
    assert.equal(started.code, 0, started.stderr);
    const id = JSON.parse(started.stdout).dispatch_id as string;
    await delay(3000);
    const began = Date.now();
    const cancelled = await runCli(['cancel', id], stack.env);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.match(cancelled.stdout, /3 running jobs stopped/);
    assert.ok(Date.now() - began < 60_000, 'cancel returned well before the 2-minute tasks would have ended');
    const runningJobs = await stack.client.workflow.count(
      `DispatchId = "${id}" AND ExecutionStatus = "Running"`,
    );
    assert.equal(runningJobs.count, 0);
    const status = await runCli(['status', id], stack.env);
    assert.equal(status.code, 3);
    assert.match(status.stdout, /cancelled/);
    assert.equal(await recordCount(), 0);
  });
});
