import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli, type CliResult } from '../helpers/cli';
import { seedAssets, writeSpec } from '../helpers/data';
import { ROOT, testStack, type TestStack } from '../helpers/stack';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'analyses');
const POISON = '{"name": {"$regex": "^poison_"}}';
const NOBODY = '{"name": "nobody"}';
/** Far enough away that the schedules never fire by themselves during the test. */
const CRON = '0 3 1 1 * 2099';

/**
 * The four commands that wait for a dispatch end the same way: exit 4 when it completed with
 * failures within the tolerated threshold, exit 2 when what it was asked is wrong, and the same
 * JSON summary.
 */
describe('outcome of dispatch --wait, retry --wait, status --watch, schedule trigger --wait', () => {
  let stack: TestStack;
  let spec: string;
  let parameters: string;
  const schedules: string[] = [];
  /** Dispatch ids by what they ended as, for the commands that look at an earlier dispatch. */
  const ids: { partial?: string; badInput?: string } = {};

  const cli = (...args: string[]) => runCli(args, stack.env, { timeoutMs: 180_000 });
  /** 2 tasks of 1 asset, one failure tolerated; one task fails, so later runs rerun only that one. */
  const poisonArgs = () => [
    '--query',
    POISON,
    '--analysis_spec',
    spec,
    '--analysis_parameters',
    parameters,
    '--tolerated_failure_count',
    '1',
  ];
  const json = (result: CliResult) => JSON.parse(result.stdout) as Record<string, unknown>;
  const output = (result: CliResult) => `exit ${result.code}\n${result.stdout}\n${result.stderr}`;
  /** Every waiting command prints this one JSON summary (absent values left out). */
  const assertSummary = (summary: Record<string, unknown>) => {
    for (const key of ['dispatch_id', 'url', 'status', 'elapsed_s', 'tasks_per_s'])
      assert.ok(key in summary, key);
    const known = new Set([
      'dispatch_id',
      'url',
      'status',
      'error',
      'error_type',
      'elapsed_s',
      'tasks_per_s',
      'progress',
    ]);
    assert.deepEqual(
      Object.keys(summary).filter((key) => !known.has(key)),
      [],
    );
  };

  before(async () => {
    stack = await testStack('outcome');
    stack.env.ANALYSIS_MODULES_DIR = FIXTURES;
    await stack.startWorker({ ANALYSIS_MODULES_DIR: FIXTURES });
    await seedAssets(stack, { count: 1, namePrefix: 'poison' });
    const dir = mkdtempSync(join(tmpdir(), 'outcome-test-'));
    spec = writeSpec(dir, [{ analysis_name: 'Fail When', analysis_version: '1', max_attempts: 1 }]);
    parameters = join(dir, 'parameters.json');
    // Long enough that status --watch finds the dispatch still running.
    writeFileSync(
      parameters,
      JSON.stringify({ distributed_parameters: [{ ms: 2000 }, { fail: true, ms: 2000 }] }),
    );
  });
  after(async () => {
    for (const id of schedules)
      await stack.client.schedule
        .getHandle(id)
        .delete()
        .catch(() => undefined);
    await stack?.close();
  });

  test('dispatch --wait: exit 4 with tolerated failures, exit 2 for a query matching nothing', async () => {
    const partial = await cli('dispatch', ...poisonArgs(), '--wait');
    assert.equal(partial.code, 4, output(partial));
    ids.partial = /^dispatch (\S+)$/m.exec(partial.stdout)?.[1];
    assert.match(partial.stdout, new RegExp(`^dispatch ${ids.partial} completed_with_failures$`, 'm'));
    assert.match(partial.stdout, /poisoned task: fail is true/);

    const bad = await cli('dispatch', '--query', NOBODY, '--analysis_spec', spec, '--wait', '--json');
    assert.equal(bad.code, 2, output(bad));
    const summary = json(bad);
    assertSummary(summary);
    assert.equal(summary.error_type, 'InvalidInput');
    ids.badInput = summary.dispatch_id as string;
  });

  test('retry --wait: exit 4 when the rerun task fails again within the tolerance, exit 2 for nothing to retry', async () => {
    assert.ok(ids.partial && ids.badInput, 'the dispatch test ran first');
    const partial = await cli('retry', ids.partial, '--wait', '--json');
    assert.equal(partial.code, 4, output(partial));
    const summary = json(partial);
    assertSummary(summary);
    assert.equal(summary.status, 'completed_with_failures');
    assert.equal((summary.progress as { retry_of: string }).retry_of, ids.partial);

    const never = await cli('retry', ids.badInput, '--wait');
    assert.equal(never.code, 2, output(never));
    assert.match(never.stderr, /never planned anything/);
    const unknown = await cli('retry', '20990101-000000-0000', '--wait');
    assert.equal(unknown.code, 2, output(unknown));
    assert.match(unknown.stderr, /no dispatch 20990101-000000-0000/);
  });

  test('status --watch: exit 4 after following a dispatch that completes with tolerated failures, exit 2 for one that failed on bad input', async () => {
    assert.ok(ids.badInput, 'the dispatch test ran first');
    const started = await cli('dispatch', ...poisonArgs(), '--json');
    const id = json(started).dispatch_id as string;
    assert.ok(id, output(started));
    const watched = await cli('status', id, '--watch');
    assert.equal(watched.code, 4, output(watched));
    assert.match(watched.stdout, new RegExp(`^dispatch ${id}$`, 'm'));
    assert.match(watched.stdout, /^1 to run in 1 jobs$/m);
    assert.match(watched.stdout, new RegExp(`^dispatch ${id} completed_with_failures$`, 'm'));
    // The failures, by cause, after the summary.
    assert.match(
      watched.stdout,
      /^1 failed: 1 x "poisoned task: fail is true" \(e\.g\. asset poison_0000\)$/m,
    );
    const closed = await cli('status', id, '--json');
    assert.equal(closed.code, 4, output(closed));
    assert.deepEqual(json(closed).failure_groups, {
      groups: [
        {
          signature: 'poisoned task: fail is true',
          count: 1,
          example_error: 'poisoned task: fail is true',
          example_assets: ['poison_0000'],
          analyses: [],
        },
      ],
      sampled: 1,
      other_groups: 0,
      other_failures: 0,
    });

    const bad = await cli('status', ids.badInput, '--watch', '--json');
    assert.equal(bad.code, 2, output(bad));
    assertSummary(json(bad));
    assert.equal(json(bad).error_type, 'InvalidInput');
    const unknown = await cli('status', '20990101-000000-0000', '--watch');
    assert.equal(unknown.code, 2, output(unknown));
  });

  test('schedule trigger --wait: exit 4 for a run with tolerated failures, exit 2 for a run on bad input', async () => {
    const partialId = `o4-${stack.name}`;
    const badId = `o2-${stack.name}`;
    const made = [
      await cli('schedule', 'create', partialId, '--cron', CRON, ...poisonArgs()),
      await cli('schedule', 'create', badId, '--cron', CRON, '--query', NOBODY, '--analysis_spec', spec),
    ];
    for (const result of made) assert.equal(result.code, 0, output(result));
    schedules.push(partialId, badId);

    const partial = await cli('schedule', 'trigger', partialId, '--wait');
    assert.equal(partial.code, 4, output(partial));
    assert.match(partial.stdout, /^1 to run in 1 jobs$/m);
    assert.match(
      partial.stdout,
      new RegExp(`^dispatch sched-${partialId}-\\S+ completed_with_failures$`, 'm'),
    );

    const bad = await cli('schedule', 'trigger', badId, '--wait', '--json');
    assert.equal(bad.code, 2, output(bad));
    const summary = json(bad);
    assertSummary(summary);
    assert.equal(summary.error_type, 'InvalidInput');
  });
});
