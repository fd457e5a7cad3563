import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { leanCurrentOutcome } from '../../src/client/follow/status-read';
import type { Outcome } from '../../src/dispatch-outcome';
import { dispatchHandle, readCurrentOutcome } from '../../src/client/follow/reads';
import { dispatchWorkflowId } from '../../src/workflow-ids';
import { runCli, type CliResult } from '../helpers/cli';
import { seedAssets, writeSpec } from '../helpers/data';
import { loadedPackages, loadedPackagesProbe } from '../helpers/loaded-packages';
import { FIXTURE_ANALYSES, testStack, type TestStack } from '../helpers/stack';

/**
 * `status` reads a dispatch over a few plain gRPC calls instead of the SDK's client (a tenth of a
 * second instead of four): what it shows must be what the SDK's reads show, for every ending.
 */
describe('status without the SDK client', () => {
  let stack: TestStack;
  let spec: string;
  const cli = (...args: string[]) =>
    runCli(
      args,
      { ...stack.env, NODE_OPTIONS: `--require ${loadedPackagesProbe()}` },
      { timeoutMs: 180_000 },
    );
  const output = (result: CliResult) => `exit ${result.code}\n${result.stdout}\n${result.stderr}`;
  const loaded = (result: CliResult) => loadedPackages(result.stderr) ?? [];
  const parameters = (dir: string, tasks: unknown[]) => {
    const file = join(dir, `parameters-${tasks.length}-${Date.now()}.json`);
    writeFileSync(file, JSON.stringify({ distributed_parameters: tasks }));
    return file;
  };
  let dir: string;

  /** Starts a dispatch of the given tasks on the one asset and answers its id. */
  const start = async (tasks: unknown[], ...more: string[]) => {
    const started = await cli(
      'dispatch',
      '--query',
      '{"name": "status_0000"}',
      '--analysis_spec',
      spec,
      '--analysis_parameters',
      parameters(dir, tasks),
      '--json',
      ...more,
    );
    const id = (JSON.parse(started.stdout) as { dispatch_id?: string }).dispatch_id;
    assert.ok(id, output(started));
    return id;
  };
  const sdkOutcome = (id: string) => readCurrentOutcome(dispatchHandle(stack.client, id));
  const closed = async (id: string) => {
    await stack.client.workflow
      .getHandle(dispatchWorkflowId(id))
      .result()
      .catch(() => undefined);
  };
  /** The lean read and the SDK's, of a closed dispatch, field for field. */
  const assertSame = async (id: string, status: Outcome['status']) => {
    const lean = await leanCurrentOutcome(dispatchWorkflowId(id));
    assert.ok(lean, `the lean read answered for ${status}`);
    assert.deepEqual(lean, await sdkOutcome(id));
    assert.equal(lean.status, status);
    const shown = await cli('status', id, '--json');
    assert.equal((JSON.parse(shown.stdout) as { status: string }).status, status, output(shown));
    assert.ok(!loaded(shown).includes('@temporalio/client'), `status ${status} loaded the SDK client`);
    return lean;
  };

  before(async () => {
    stack = await testStack('status');
    stack.env.ANALYSIS_MODULES_DIR = FIXTURE_ANALYSES;
    await stack.startWorker({ ANALYSIS_MODULES_DIR: FIXTURE_ANALYSES });
    await seedAssets(stack, { count: 1, namePrefix: 'status' });
    dir = mkdtempSync(join(tmpdir(), 'status-test-'));
    spec = writeSpec(dir, [{ analysis_name: 'Fail When', analysis_version: '1', max_attempts: 1 }]);
  });
  after(async () => {
    await stack?.close();
  });

  test('a running dispatch: its plan and progress, read while it runs', async () => {
    const id = await start([{ ms: 6000 }, { ms: 6000, n: 2 }]);
    for (let i = 0; i < 50; i++) {
      const lean = await leanCurrentOutcome(dispatchWorkflowId(id));
      if (lean?.progress?.plan) {
        const sdk = await sdkOutcome(id);
        assert.equal(lean.status, 'running');
        assert.equal(sdk.status, 'running');
        assert.deepEqual(lean.progress.plan, sdk.progress?.plan);
        assert.deepEqual(lean.progress.settings, sdk.progress?.settings);
        break;
      }
      assert.ok(i < 49, 'the dispatch planned within 25 s');
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const shown = await cli('status', id);
    assert.equal(shown.code, 0, output(shown));
    assert.match(shown.stdout, /^2 to run in 2 jobs$/m);
    assert.match(
      shown.stdout,
      /^phase running: \d\/2 tasks finished, \d of \d+ jobs running; priority 3, fairness key \S+$/m,
    );
    assert.ok(
      !loaded(shown).includes('@temporalio/client'),
      'status of a running dispatch loaded the SDK client',
    );
    await closed(id);
    const done = await assertSame(id, 'completed');
    assert.equal(done.progress?.counts.succeeded, 2);
    assert.ok(done.endedAt && done.endedAt > done.progress.started_at);
  });

  test('completed with failures, failed on bad input, cancelled, terminated: as the SDK reads them', async () => {
    const partial = await start([{ ms: 0 }, { fail: true, n: 2 }], '--tolerated_failure_count', '1');
    await closed(partial);
    const lean = await assertSame(partial, 'completed_with_failures');
    assert.equal(lean.progress?.failures[0]?.error, 'poisoned task: fail is true');

    const failed = await start([{ fail: true }]);
    await closed(failed);
    const tasksFailed = await assertSame(failed, 'failed');
    assert.equal(tasksFailed.errorType, 'TasksFailed');

    const bad = await cli('dispatch', '--query', '{"name": "nobody"}', '--analysis_spec', spec, '--json');
    const badId = (JSON.parse(bad.stdout) as { dispatch_id: string }).dispatch_id;
    await closed(badId);
    const invalid = await assertSame(badId, 'failed');
    assert.equal(invalid.errorType, 'InvalidInput');
    const shown = await cli('status', badId);
    assert.equal(shown.code, 2, output(shown));

    const cancelled = await start([{ ms: 30_000 }]);
    const cancel = await cli('cancel', cancelled);
    assert.equal(cancel.code, 0, output(cancel));
    await closed(cancelled);
    await assertSame(cancelled, 'cancelled');

    const terminated = await start([{ ms: 30_000 }]);
    await stack.client.workflow.getHandle(dispatchWorkflowId(terminated)).terminate('stopped by the test');
    const ended = await assertSame(terminated, 'terminated');
    assert.equal(ended.error, 'stopped by the test');
  });

  test('an unknown dispatch: exit 2 and its name, as before', async () => {
    const unknown = await cli('status', '20990101-000000-0000');
    assert.equal(unknown.code, 2, output(unknown));
    assert.match(unknown.stderr, /^error: no dispatch 20990101-000000-0000 on this Temporal server$/m);
  });
});
