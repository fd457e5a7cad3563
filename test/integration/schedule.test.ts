import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli';
import { seedAssets, writeSpec } from '../helpers/data';
import { ROOT, testStack, type TestStack } from '../helpers/stack';
import type { AnalysisRecord } from '../../src/types';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'analyses');
const QUERY = '{"name": {"$regex": "^(asset|late)_"}}';
/** Far enough away that the schedule never fires by itself during the test. */
const CRON = '0 3 1 1 * 2099';

/** Retries `check` until it passes: schedule listing and search attributes are eventually consistent. */
async function eventually<T>(check: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await delay(500);
    }
  }
}

describe('schedule', () => {
  let stack: TestStack;
  let spec: string;
  let id: string;
  const created: string[] = [];
  const runs: string[] = [];

  const cli = (...args: string[]) => runCli(['schedule', ...args], stack.env);
  const create = async (scheduleId: string, ...args: string[]) => {
    const result = await cli('create', scheduleId, '--query', QUERY, '--analysis_spec', spec, ...args);
    if (result.code === 0) created.push(scheduleId);
    return result;
  };
  const describeJson = async () => {
    const result = await cli('describe', id, '--json');
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout);
  };

  before(async () => {
    stack = await testStack('schedule');
    stack.env.ANALYSIS_MODULES_DIR = FIXTURES;
    await stack.startWorker({ ANALYSIS_MODULES_DIR: FIXTURES });
    spec = writeSpec(mkdtempSync(join(tmpdir(), 'schedule-test-')), [
      { analysis_name: 'Noop', analysis_version: '1.0.0' },
    ]);
    id = `s-${stack.name}`;
  });
  after(async () => {
    // Schedules live on the shared server: remove them even when a test failed.
    for (const scheduleId of created)
      await stack.client.schedule
        .getHandle(scheduleId)
        .delete()
        .catch(() => undefined);
    await stack?.close();
  });

  test('a triggered rerun only runs the tasks of an asset added since the last run', async () => {
    await seedAssets(stack, { count: 3 });
    const made = await create(id, '--cron', CRON, '--note', 'nightly');
    assert.equal(made.code, 0, made.stderr);
    assert.ok(made.stdout.includes(`schedule ${id} created: cron "${CRON}"`), made.stdout);

    for (const expectNew of [3, 1]) {
      if (expectNew === 1) await seedAssets(stack, { count: 1, namePrefix: 'late' });
      const run = await cli('trigger', id, '--wait', '--json');
      assert.equal(run.code, 0, run.stderr + run.stdout);
      const outcome = JSON.parse(run.stdout);
      assert.match(outcome.dispatch_id, new RegExp(`^sched-${id}-`));
      assert.equal(outcome.progress.counts.succeeded, expectNew);
      runs.push(outcome.dispatch_id);
    }

    const records = stack.mongo
      .db(stack.config.DOCDB_DATABASE)
      .collection<AnalysisRecord>(stack.config.DOCDB_COLLECTION);
    assert.equal(await records.countDocuments({ dispatch_id: runs[0] }), 3);
    const second = await records.find({ dispatch_id: runs[1] }).toArray();
    assert.deepEqual(
      second.map((record) => record.input.asset_name),
      [['late_0000']],
    );

    // The workflow sets DispatchId itself, since a schedule cannot give each run its own.
    await eventually(async () => {
      const found = [];
      for await (const w of stack.client.workflow.list({
        query: `DispatchId = "${runs[1]}" AND WorkflowType = "dispatch"`,
      }))
        found.push(w.workflowId);
      assert.deepEqual(found, [`dispatch-${runs[1]}`]);
    });
  });

  test('list and describe show the spec, the next run and the recent runs', async () => {
    const listed = await eventually(async () => {
      const result = await cli('list', '--json');
      assert.equal(result.code, 0, result.stderr);
      const row = JSON.parse(result.stdout).find((r: { schedule_id: string }) => r.schedule_id === id);
      assert.ok(row, `${id} listed`);
      assert.equal(row.last_run?.status, 'COMPLETED');
      return row;
    });
    assert.equal(listed.spec, `cron "${CRON}"`);
    assert.equal(listed.paused, false);
    assert.equal(listed.next_run, '2099-01-01T03:00:00.000Z');
    assert.equal(listed.last_run.dispatch_id, runs[1]);

    const view = await describeJson();
    assert.equal(view.overlap, 'SKIP');
    assert.equal(view.task_queue, stack.config.TEMPORAL_TASK_QUEUE);
    assert.deepEqual(
      view.recent_runs.map((run: { dispatch_id: string; status: string }) => [run.dispatch_id, run.status]),
      runs.map((run) => [run, 'COMPLETED']),
    );
    assert.equal(view.request.specs[0].analysis_name, 'Noop');
    const text = await cli('describe', id);
    assert.match(text.stdout, /overlapping runs: SKIP/);
    assert.match(text.stdout, /recent runs \(newest first\)/);
    assert.ok(text.stdout.indexOf(runs[1]!) < text.stdout.indexOf(runs[0]!), 'newest first');
  });

  test('pause and unpause, with a note', async () => {
    const paused = await cli('pause', id, '--note', 'maintenance');
    assert.equal(paused.code, 0, paused.stderr);
    let view = await describeJson();
    assert.equal(view.paused, true);
    assert.equal(view.note, 'maintenance');
    assert.match((await cli('describe', id)).stdout, /PAUSED {2}\(maintenance\)/);
    assert.equal((await cli('unpause', id)).code, 0);
    view = await describeJson();
    assert.equal(view.paused, false);
  });

  test('create refuses missing or bad timing and an id in use', async () => {
    const cases: Array<[string[], RegExp]> = [
      [[`${id}-x`], /--cron .* or --every/],
      [[`${id}-x`, '--cron', CRON, '--every', '1h'], /--cron or --every, not both/],
      [[`${id}-x`, '--every', 'soon'], /--every "soon"/],
      [[`${id}-x`, '--cron', '61 * * * *'], /refused the schedule's timing.*Minute/i],
      [['bad id!', '--every', '1h'], /schedule id "bad id!"/],
      [[id, '--every', '1h'], /already exists/],
    ];
    for (const [[scheduleId, ...args], message] of cases) {
      const result = await create(scheduleId!, ...args);
      assert.equal(result.code, 2, `${scheduleId} ${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
  });

  test('a trigger while the previous run is still going is skipped', async () => {
    const slowSpec = writeSpec(mkdtempSync(join(tmpdir(), 'schedule-slow-')), [
      { analysis_name: 'Sleep', analysis_version: '1', analysis_parameters: { ms: 12_000 } },
    ]);
    // Long enough that the second trigger (a CLI start away) always finds the first run going.
    const slow = `${id}-slow`;
    const made = await cli(
      'create',
      slow,
      '--every',
      '1d',
      '--paused',
      '--query',
      QUERY,
      '--analysis_spec',
      slowSpec,
    );
    assert.equal(made.code, 0, made.stderr);
    created.push(slow);
    const first = await cli('trigger', slow, '--json');
    assert.equal(first.code, 0, first.stderr);
    const running = JSON.parse(first.stdout).dispatch_id as string;
    const second = await cli('trigger', slow);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, new RegExp(`skipped: the previous run is still going \\(${running}\\)`));
    await stack.client.workflow.getHandle(`dispatch-${running}`).result();
  });

  test('delete removes the schedule', async () => {
    const deleted = await cli('delete', id);
    assert.equal(deleted.code, 0, deleted.stderr);
    const gone = await cli('describe', id);
    assert.equal(gone.code, 2);
    assert.match(gone.stderr, /no schedule/);
  });
});
