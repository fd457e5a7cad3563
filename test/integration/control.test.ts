import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli';
import { seedAssets, writeSpec } from '../helpers/data';
import { ROOT, testStack, type TestStack } from '../helpers/stack';
import type { StoredRecord } from '../../src/types';
import { maxOverlap, timesOf } from '../helpers/records';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'analyses');

describe('dispatch control', () => {
  let stack: TestStack;
  let dir: string;
  let poisonParams: string;
  const records = () =>
    stack.mongo.db(stack.config.DOCDB_DATABASE).collection<StoredRecord>(stack.config.DOCDB_COLLECTION);

  before(async () => {
    stack = await testStack('control');
    stack.env.ANALYSIS_MODULES_DIR = FIXTURES;
    await stack.startWorker({ ANALYSIS_MODULES_DIR: FIXTURES });
    dir = mkdtempSync(join(tmpdir(), 'control-test-'));
    await seedAssets(stack, { count: 4, namePrefix: 'poison' });
    await seedAssets(stack, { count: 16, namePrefix: 'sleepy' });
    // 4 assets x 4 parameter sets, one of which fails: 16 tasks, 4 poisoned (25%).
    poisonParams = join(dir, 'poison.json');
    writeFileSync(
      poisonParams,
      JSON.stringify({
        distributed_parameters: [
          { fail: false, ms: 0 },
          { fail: false, ms: 1 },
          { fail: false, ms: 2 },
          { fail: true },
        ],
      }),
    );
  });
  after(async () => {
    delete process.env.FAIL_WHEN_FIXED;
    await stack?.close();
  });

  const poisonSpec = (version: string) =>
    writeSpec(
      dir,
      [{ analysis_name: 'Fail When', analysis_version: version, max_attempts: 1 }],
      `fail-${version}.json`,
    );
  const poisonArgs = (version: string) => [
    '--query',
    '{"name": {"$regex": "^poison_"}}',
    '--analysis_spec',
    poisonSpec(version),
    '--analysis_parameters',
    poisonParams,
  ];

  test('failures within --tolerated_failure_percent: completed with failures, exit 4, failures named', async () => {
    const result = await runCli(
      [
        'dispatch',
        ...poisonArgs('tolerated'),
        '--tolerated_failure_percent',
        '30',
        '--num_parallel_workers',
        '4',
        '--wait',
      ],
      stack.env,
    );
    assert.equal(result.code, 4, result.stderr + result.stdout);
    assert.match(result.stdout, /completed_with_failures/);
    assert.match(result.stdout, /poisoned task/);
    assert.equal(await records().countDocuments({ analysis_version: 'tolerated' }), 12);
  });

  test('failures past --tolerated_failure_count: stops starting jobs, fails with the reason', async () => {
    const result = await runCli(
      [
        'dispatch',
        ...poisonArgs('strict'),
        '--tolerated_failure_count',
        '0',
        '--num_parallel_workers',
        '1',
        '--wait',
        '--json',
      ],
      stack.env,
    );
    assert.equal(result.code, 1, result.stderr);
    const outcome = JSON.parse(result.stdout);
    assert.equal(outcome.error_type, 'FailureThresholdExceeded');
    assert.match(outcome.error, /more than the 0 tolerated/);
    assert.equal(outcome.progress.counts.failed, 1);
    assert.ok(outcome.progress.jobs_started < 16, `stopped early, started ${outcome.progress.jobs_started}`);
  });

  test('retry runs exactly the tasks that failed or never ran', async () => {
    const first = await runCli(
      ['dispatch', ...poisonArgs('retry'), '--num_parallel_workers', '4', '--wait', '--json'],
      stack.env,
    );
    assert.equal(first.code, 1, first.stderr);
    const firstId = JSON.parse(first.stdout).dispatch_id as string;
    assert.equal(await records().countDocuments({ analysis_version: 'retry' }), 12);

    process.env.FAIL_WHEN_FIXED = '1';
    try {
      const retry = await runCli(['retry', firstId, '--wait', '--json'], stack.env);
      assert.equal(retry.code, 0, retry.stderr + retry.stdout);
      const outcome = JSON.parse(retry.stdout);
      assert.equal(outcome.progress.plan.tasks_to_run, 4);
      assert.equal(outcome.progress.retry_of, firstId);
      assert.equal(
        await records().countDocuments({ analysis_version: 'retry', dispatch_id: outcome.dispatch_id }),
        4,
      );
      assert.equal(await records().countDocuments({ analysis_version: 'retry' }), 16);
    } finally {
      delete process.env.FAIL_WHEN_FIXED;
    }
  });

  test('resize raises and lowers the window of a running dispatch', async () => {
    const spec = writeSpec(
      dir,
      [{ analysis_name: 'Sleep', analysis_version: 'resize', analysis_parameters: { ms: 1500 } }],
      'sleep.json',
    );
    const started = await runCli(
      [
        'dispatch',
        '--query',
        '{"name": {"$regex": "^sleepy_"}}',
        '--analysis_spec',
        spec,
        '--num_parallel_workers',
        '2',
        '--json',
      ],
      stack.env,
    );
    assert.equal(started.code, 0, started.stderr);
    const id = JSON.parse(started.stdout).dispatch_id as string;
    await delay(3000);
    const raisedAt = Date.now();
    const up = await runCli(['resize', id, '--num_parallel_workers', '6'], stack.env);
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stdout, /2 -> 6/);
    const bad = await runCli(['resize', id, '--num_parallel_workers', '0'], stack.env);
    assert.equal(bad.code, 2);
    const status = await runCli(['status', id, '--json'], stack.env);
    assert.equal(JSON.parse(status.stdout).progress.settings.num_parallel_workers, 6);
    const done = await runCli(['status', id, '--watch', '--json'], stack.env, { timeoutMs: 180_000 });
    assert.equal(done.code, 0, done.stderr);
    const intervals = (await records().find({ analysis_version: 'resize' }).toArray()).map((r) => timesOf(r));
    assert.equal(intervals.length, 16);
    const before = maxOverlap(intervals.filter(([start]) => start < raisedAt));
    const afterRaise = maxOverlap(intervals.filter(([start]) => start > raisedAt + 500));
    assert.ok(before <= 2, `at most 2 before resize, saw ${before}`);
    assert.ok(afterRaise > 2 && afterRaise <= 6, `between 3 and 6 after resize, saw ${afterRaise}`);
  });

  test('pause stops new jobs while running ones finish; resume completes the dispatch', async () => {
    const spec = writeSpec(
      dir,
      [{ analysis_name: 'Sleep', analysis_version: 'pause', analysis_parameters: { ms: 800 } }],
      'pause.json',
    );
    const started = await runCli(
      [
        'dispatch',
        '--query',
        '{"name": {"$regex": "^sleepy_"}}',
        '--analysis_spec',
        spec,
        '--num_parallel_workers',
        '2',
        '--json',
      ],
      stack.env,
    );
    const id = JSON.parse(started.stdout).dispatch_id as string;
    await delay(1500);
    const paused = await runCli(['pause', id], stack.env);
    assert.equal(paused.code, 0, paused.stderr);
    await delay(3000); // the jobs running at pause time finish
    const heldAt = await records().countDocuments({ analysis_version: 'pause' });
    const status = JSON.parse((await runCli(['status', id, '--json'], stack.env)).stdout);
    assert.equal(status.progress.paused, true);
    assert.equal(status.progress.running, 0);
    await delay(3000);
    assert.equal(
      await records().countDocuments({ analysis_version: 'pause' }),
      heldAt,
      'no task ran while paused',
    );
    assert.ok(heldAt < 16);
    const resumed = await runCli(['resume', id], stack.env);
    assert.equal(resumed.code, 0, resumed.stderr);
    const done = await runCli(['status', id, '--watch', '--json'], stack.env, { timeoutMs: 180_000 });
    assert.equal(done.code, 0, done.stderr);
    assert.equal(await records().countDocuments({ analysis_version: 'pause' }), 16);
  });
});
