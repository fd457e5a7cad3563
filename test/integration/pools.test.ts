import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { recordFacts } from '../../src/aind/metadata';
import type { PlanSummary, StoredRecord } from '../../src/types';
import { dispatchWorkflowId } from '../../src/workflow-ids';
import { runCli } from '../helpers/cli';
import { seedAssets, writeSpec } from '../helpers/data';
import { ROOT, testStack, type TestStack } from '../helpers/stack';

/** "Render" (a manifest) and "Shade" (TypeScript) name the pool "gpu"; "Tally" names none. */
const POOL_ANALYSES = join(ROOT, 'test', 'fixtures', 'pool-analyses');

/** Polls until `check` holds, failing with `what` after `ms`. */
async function until(what: string, check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

describe('worker pools', () => {
  let stack: TestStack;
  let dir: string;
  let gpuQueue: string;
  const workDir = (pool: string) => join(ROOT, 'test-output', 'work', `${stack.name}-${pool}`);
  const query = '{"name": {"$regex": "^pool_"}}';
  const records = () =>
    stack.mongo.db(stack.config.DOCDB_DATABASE).collection<StoredRecord>(stack.config.DOCDB_COLLECTION);
  const specs = (version: string) =>
    writeSpec(
      dir,
      ['Render', 'Shade', 'Tally'].map((name) => ({ analysis_name: name, analysis_version: version })),
      `specs-${version}.json`,
    );
  const unserved = () =>
    new RegExp(
      `warning: no worker serving pool "gpu" is polling task queue ${gpuQueue}: its tasks wait until one starts \\(analysis worker --pools gpu\\)`,
    );

  before(async () => {
    stack = await testStack('pools');
    stack.env.ANALYSIS_MODULES_DIR = POOL_ANALYSES;
    gpuQueue = `${stack.config.TEMPORAL_TASK_QUEUE}-pool-gpu`;
    // Only the default pool at first.
    await stack.startWorker({ ANALYSIS_MODULES_DIR: POOL_ANALYSES, ANALYSIS_WORK_DIR: workDir('default') });
    await seedAssets(stack, { count: 2, namePrefix: 'pool' });
    dir = mkdtempSync(join(tmpdir(), 'pools-'));
  });
  after(async () => stack?.close());

  test('plan warns that no worker serves the pool "gpu" (exit 0: the tasks would wait, not fail)', async () => {
    const result = await runCli(['plan', '--query', query, '--analysis_spec', specs('1')], stack.env);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assert.match(result.stdout, /6 tasks from 2 assets: 6 new/);
    assert.match(result.stdout, unserved());
  });

  test('the gpu tasks wait for a worker of their pool, then run on it; the others run at once', async () => {
    const started = await runCli(
      ['dispatch', '--query', query, '--analysis_spec', specs('1'), '--tasks_per_job', '1', '--json'],
      stack.env,
    );
    assert.equal(started.code, 0, started.stderr + started.stdout);
    const { dispatch_id: dispatchId, plan } = JSON.parse(started.stdout) as {
      dispatch_id: string;
      plan: PlanSummary;
    };
    assert.equal(plan.tasks_to_run, 6);
    assert.ok(
      plan.warnings.some((warning) => unserved().test(`warning: ${warning}`)),
      `the dispatch's plan warns too: ${JSON.stringify(plan.warnings)}`,
    );

    await until(
      'the Tally records',
      async () => (await records().countDocuments({ analysis_name: 'Tally' })) === 2,
    );
    // The default worker does not take the gpu runs however long they wait.
    await sleep(3_000);
    assert.equal(await records().countDocuments({ analysis_name: { $in: ['Render', 'Shade'] } }), 0);
    const handle = stack.client.workflow.getHandle(dispatchWorkflowId(dispatchId));
    assert.equal((await handle.describe()).status.name, 'RUNNING', 'the dispatch waits; nothing failed');

    await stack.startWorker({
      ANALYSIS_MODULES_DIR: POOL_ANALYSES,
      ANALYSIS_WORK_DIR: workDir('gpu'),
      ANALYSIS_WORKER_POOLS: 'gpu',
    });
    await handle.result();
    const status = await runCli(['status', dispatchId, '--json'], stack.env);
    assert.equal(status.code, 0, status.stderr + status.stdout);
    const counts = (JSON.parse(status.stdout) as { progress: { counts: Record<string, number> } }).progress
      .counts;
    assert.equal(counts.succeeded, 6);
    assert.equal(counts.failed, 0);

    const ran = await records().find({ dispatch_id: dispatchId }).toArray();
    const where = (name: string) =>
      ran
        .filter((record) => record.analysis_name === name)
        .map((record) => recordFacts(record).outputs)
        .sort((a, b) => String(a.work_root).localeCompare(String(b.work_root)));
    assert.deepEqual(where('Render'), [{ work_root: workDir('gpu') }, { work_root: workDir('gpu') }]);
    const onGpu = { work_root: workDir('gpu'), task_queue: gpuQueue };
    assert.deepEqual(where('Shade'), [onGpu, onGpu]);
    const onDefault = { work_root: workDir('default'), task_queue: stack.config.TEMPORAL_TASK_QUEUE };
    assert.deepEqual(where('Tally'), [onDefault, onDefault]);
  });

  test('plan no longer warns once a worker of the pool polls', async () => {
    const result = await runCli(['plan', '--query', query, '--analysis_spec', specs('2')], stack.env);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assert.match(result.stdout, /6 tasks from 2 assets: 6 new/);
    assert.doesNotMatch(result.stdout, /warning: .*pool "gpu"/);
  });
});
