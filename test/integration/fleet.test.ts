import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { StoredRecord } from '../../src/types';
import { dispatchWorkflowId, jobWorkflowId } from '../../src/workflow-ids';
import { runCli } from '../helpers/cli';
import { seedAssets, writeSpec } from '../helpers/data';
import { startDevServer } from '../helpers/fair-server';
import { timesOf } from '../helpers/records';
import { ensureStack, FIXTURE_ANALYSES, testStack, type TestStack } from '../helpers/stack';

/** How long each task runs: long against planning and starting jobs, so queues do fill up. */
const TASK_MS = 1200;

/**
 * Priority and fairness on one saturated worker: a worker with a single activity slot, so every
 * run step waits in the task queue and the order the server hands them out is the order they run.
 * The server is the test's own, started with the dynamic config of ./temporal-dev.sh, so the
 * shared stack (which may have been started before those settings) is not what is tested.
 */
describe('a shared fleet: priority and fair share', () => {
  let server: TestWorkflowEnvironment;
  let stack: TestStack;
  let dir: string;
  const records = () =>
    stack.mongo.db(stack.config.DOCDB_DATABASE).collection<StoredRecord>(stack.config.DOCDB_COLLECTION);
  /** Start times of the records of one analysis version, in order. */
  const startsOf = async (version: string): Promise<number[]> =>
    (
      await records()
        .find({ 'processing.data_processes.code.parameters.analysis_version': version })
        .toArray()
    )
      .map((record) => timesOf(record)[0])
      .sort((a, b) => a - b);
  const spec = (version: string) =>
    writeSpec(
      dir,
      [{ analysis_name: 'Sleep', analysis_version: version, analysis_parameters: { ms: TASK_MS } }],
      `${version}.json`,
    );
  const dispatch = async (prefix: string, version: string, ...flags: string[]) => {
    const result = await runCli(
      [
        'dispatch',
        '--query',
        `{"name": {"$regex": "^${prefix}_"}}`,
        '--analysis_spec',
        spec(version),
        '--num_parallel_workers',
        '20',
        '--json',
        ...flags,
      ],
      stack.env,
    );
    assert.equal(result.code, 0, result.stderr + result.stdout);
    return (JSON.parse(result.stdout) as { dispatch_id: string }).dispatch_id;
  };
  const until = async (what: string, check: () => Promise<boolean>, ms = 120_000) => {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(200);
    }
  };
  const ended = (dispatchId: string) => async () => {
    const status = await runCli(['status', dispatchId, '--json'], stack.env);
    return (JSON.parse(status.stdout) as { status: string }).status !== 'running';
  };

  before(async () => {
    ensureStack();
    server = await startDevServer();
    process.env.TEMPORAL_ADDRESS = server.address;
    stack = await testStack('fleet');
    stack.env.ANALYSIS_MODULES_DIR = FIXTURE_ANALYSES;
    await stack.startWorker({
      ANALYSIS_MODULES_DIR: FIXTURE_ANALYSES,
      WORKER_MAX_CONCURRENT_ACTIVITIES: '1',
    });
    for (const prefix of ['low', 'high', 'ada', 'alan'])
      await seedAssets(stack, { count: prefix === 'low' || prefix === 'ada' ? 10 : 3, namePrefix: prefix });
    dir = mkdtempSync(join(tmpdir(), 'fleet-'));
  });
  after(async () => {
    await stack?.close();
    await server?.teardown();
  });

  test('a priority-1 dispatch started later runs its tasks before the waiting priority-5 ones', async (t) => {
    const low = await dispatch('low', 'low', '--priority', '5');
    await until('the first priority-5 task', async () => (await startsOf('low')).length >= 1);
    const high = await dispatch('high', 'high', '--priority', '1');

    // The priority reaches the job workflows; status and the Web UI summary show it.
    const job = await stack.client.workflow.getHandle(jobWorkflowId(dispatchWorkflowId(high), 0)).describe();
    assert.equal(job.priority?.priorityKey, 1);
    const described = await stack.client.workflow.getHandle(dispatchWorkflowId(high)).describe();
    assert.equal(described.priority?.priorityKey, 1);
    assert.match((await described.staticSummary()) ?? '', /· priority 1$/);
    const status = await runCli(['status', high], stack.env);
    assert.match(status.stdout, /phase \w+: .*; priority 1, fairness key \S+/);

    await until('both dispatches to end', async () => (await ended(high)()) && (await ended(low)()), 180_000);
    const lowStarts = await startsOf('low');
    const highStarts = await startsOf('high');
    assert.equal(lowStarts.length, 10);
    assert.equal(highStarts.length, 3);
    // First come, first served would run all ten before them; priority lets them cut in, so most
    // of the priority-5 tasks start after the last priority-1 one.
    const after = lowStarts.filter((start) => start > highStarts.at(-1)!).length;
    const order = [...lowStarts.map((t) => [t, 5] as const), ...highStarts.map((t) => [t, 1] as const)]
      .sort((a, b) => a[0] - b[0])
      .map(([, p]) => p)
      .join(' ');
    t.diagnostic(`order the tasks started in, by priority: ${order}`);
    assert.ok(
      after >= 5,
      `priority-5 tasks started after the last priority-1 task: ${after} of 10 (${order})`,
    );
  });

  test("two people's dispatches on one saturated worker take turns instead of first come, first served", async (t) => {
    const ada = await dispatch('ada', 'ada');
    await until("ada's first task", async () => (await startsOf('ada')).length >= 1);
    const alan = await dispatch('alan', 'alan', '--fairness_key', 'alan');

    await until('both dispatches to end', async () => (await ended(ada)()) && (await ended(alan)()), 180_000);
    const adaStarts = await startsOf('ada');
    const alanStarts = await startsOf('alan');
    assert.equal(adaStarts.length, 10);
    assert.equal(alanStarts.length, 3);
    // Taking turns: some of ada's tasks run between alan's first and last, and most of ada's
    // backlog is still waiting when alan's last task starts.
    const between = adaStarts.filter((start) => start > alanStarts[0]! && start < alanStarts.at(-1)!).length;
    const afterLast = adaStarts.filter((start) => start > alanStarts.at(-1)!).length;
    const order = [
      ...adaStarts.map((t) => [t, 'ada'] as const),
      ...alanStarts.map((t) => [t, 'alan'] as const),
    ]
      .sort((a, b) => a[0] - b[0])
      .map(([, who]) => who)
      .join(' ');
    t.diagnostic(`order the tasks started in, by fairness key: ${order}`);
    assert.ok(between >= 1, `ada's tasks between alan's first and last: ${between} (${order})`);
    assert.ok(afterLast >= 4, `ada's tasks after alan's last: ${afterLast} of 10 (${order})`);
  });
});
