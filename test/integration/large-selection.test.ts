import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { temporal } from '@temporalio/proto';
import { REQUEST_COLLECTION } from '../../src/storage/request-store';
import { dispatchWorkflowId, jobWorkflowId } from '../../src/workflow-ids';
import { runCli } from '../helpers/cli';
import { seedAssets, writeSpec } from '../helpers/data';
import { ROOT, testStack, type TestStack } from '../helpers/stack';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'analyses');
const IDS = 100_000;

/** Bytes of every Payloads value in an object (an event's attributes), at any depth. */
function payloadBytes(value: unknown, found: number[] = []): number[] {
  if (value === null || typeof value !== 'object') return found;
  const payloads = (value as { payloads?: Array<{ data?: Uint8Array | null }> }).payloads;
  if (Array.isArray(payloads)) found.push(payloads.reduce((sum, p) => sum + (p.data?.length ?? 0), 0));
  else for (const child of Object.values(value)) payloadBytes(child, found);
  return found;
}

/**
 * A selection of 100,000 ids: nothing that grows with it travels through Temporal, so it
 * dispatches, retries and schedules like a small one.
 */
describe('a selection of any size', () => {
  let stack: TestStack;
  let csv: string;
  let spec: string;
  let queryFile: string;
  /** The largest workflow input seen, and the largest payload of any event, in bytes. */
  const largest = { input: 0, payload: 0 };

  async function history(workflowId: string): Promise<temporal.api.history.v1.IHistoryEvent[]> {
    return (await stack.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  }
  /**
   * Notes the sizes of the payloads of a finished dispatch and of its jobs (their inputs, the
   * tasks they read, the results), and returns the dispatch's input size.
   */
  async function measure(workflowId: string, jobs = 3): Promise<number> {
    let dispatchInput = 0;
    for (const id of [workflowId, ...Array.from({ length: jobs }, (_, i) => jobWorkflowId(workflowId, i))]) {
      const events = await history(id);
      const input = payloadBytes(events[0]?.workflowExecutionStartedEventAttributes?.input ?? {})[0] ?? 0;
      if (id === workflowId) dispatchInput = input;
      largest.input = Math.max(largest.input, input);
      for (const event of events) largest.payload = Math.max(largest.payload, ...payloadBytes(event));
    }
    return dispatchInput;
  }
  const requests = () => stack.mongo.db(stack.config.DOCDB_DATABASE).collection(REQUEST_COLLECTION);

  before(async () => {
    stack = await testStack('largesel');
    stack.env.ANALYSIS_MODULES_DIR = FIXTURES;
    await stack.startWorker({ ANALYSIS_MODULES_DIR: FIXTURES });
    const names = await seedAssets(stack, { count: 40 });
    const dir = mkdtempSync(join(tmpdir(), 'large-selection-'));
    spec = writeSpec(dir, [{ analysis_name: 'Noop', analysis_version: '1' }]);
    // A few ids that match among 100,000 that do not, ObjectId-shaped like most real ones.
    const ids = Array.from({ length: IDS }, (_, i) => `6${String(i).padStart(23, '0')}`);
    for (const [i, name] of [names[3]!, names[17]!, names[29]!].entries()) ids[i * 33_333] = name;
    csv = join(dir, 'ids.csv');
    writeFileSync(csv, ['asset_id', ...ids].join('\n'));
    queryFile = join(dir, 'query.json');
    writeFileSync(queryFile, JSON.stringify({ _id: { $in: ids } }));
  });
  after(async () => {
    console.log(
      `# largest workflow input ${largest.input} bytes; largest payload of any event ${largest.payload} bytes`,
    );
    await stack?.close();
  });

  test('plan: the time to plan a 100,000-id CSV selection (printed)', async () => {
    const started = Date.now();
    const result = await runCli(
      ['plan', '--use_data_assets', '1', '--asset_csv', csv, '--analysis_spec', spec, '--json'],
      stack.env,
    );
    const seconds = (Date.now() - started) / 1000;
    assert.equal(result.code, 0, result.stderr);
    const planned = JSON.parse(result.stdout) as { summary: { tasks_to_run: number; warnings: string[] } };
    assert.equal(planned.summary.tasks_to_run, 3);
    assert.match(planned.summary.warnings.join('\n'), /99997 of 100000 ids in --asset_csv matched no asset/);
    console.log(`# plan of a ${IDS}-id CSV selection (3 matches, 40 assets): ${seconds.toFixed(1)} s`);
  });

  test('dispatch (dry run) and retry of a 100,000-id CSV: small inputs, the request in the database', async () => {
    const started = Date.now();
    const result = await runCli(
      [
        'dispatch',
        '--use_data_assets',
        '1',
        '--asset_csv',
        csv,
        '--analysis_spec',
        spec,
        '--dry_run',
        '1',
        '--wait',
        '--json',
      ],
      stack.env,
    );
    const seconds = (Date.now() - started) / 1000;
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const outcome = JSON.parse(result.stdout) as {
      dispatch_id: string;
      progress: { counts: { succeeded: number }; plan: { warnings: string[] } };
    };
    assert.equal(outcome.progress.counts.succeeded, 3);
    console.log(`# dispatch --dry_run 1 --wait of a ${IDS}-id CSV selection: ${seconds.toFixed(1)} s`);
    const input = await measure(dispatchWorkflowId(outcome.dispatch_id));
    assert.ok(input < 2_000, `the dispatch's input is ${input} bytes`);
    assert.equal(await requests().countDocuments({ request_id: outcome.dispatch_id }), 1);

    const retried = await runCli(['retry', outcome.dispatch_id, '--wait', '--json'], stack.env);
    assert.equal(retried.code, 0, retried.stderr + retried.stdout);
    const again = JSON.parse(retried.stdout) as {
      dispatch_id: string;
      progress: { counts: { succeeded: number }; plan: { warnings: string[] } };
    };
    assert.equal(
      again.progress.counts.succeeded,
      3,
      'a dry run records nothing, so the retry reruns every task',
    );
    assert.ok((await measure(dispatchWorkflowId(again.dispatch_id))) < 2_000);
  });

  test('a query of 100,000 ids dispatches like a small one', async () => {
    const result = await runCli(
      ['dispatch', '--query', queryFile, '--analysis_spec', spec, '--dry_run', '1', '--wait', '--json'],
      stack.env,
    );
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const outcome = JSON.parse(result.stdout) as {
      dispatch_id: string;
      progress: { counts: { succeeded: number }; plan: { warnings: string[] } };
    };
    assert.equal(outcome.progress.counts.succeeded, 3);
    assert.ok((await measure(dispatchWorkflowId(outcome.dispatch_id))) < 2_000);
    assert.match(
      outcome.progress.plan.warnings.join('\n'),
      /the query is \d+ KiB, more than the 16 KiB a task carries/,
    );
  });

  test('a schedule of a 100,000-id CSV keeps the file outside its action, and runs it', async () => {
    const id = `large-${stack.name}`;
    const created = await runCli(
      [
        'schedule',
        'create',
        id,
        '--cron',
        '0 3 1 1 * 2099',
        '--use_data_assets',
        '1',
        '--asset_csv',
        csv,
        '--analysis_spec',
        spec,
        '--dry_run',
        '1',
      ],
      stack.env,
    );
    assert.equal(created.code, 0, created.stderr);
    try {
      const description = await stack.client.schedule.getHandle(id).describe();
      const action = JSON.stringify(description.action.args);
      assert.ok(action.length < 2_000, `the schedule's action holds ${action.length} bytes`);
      const described = await runCli(['schedule', 'describe', id, '--json'], stack.env);
      assert.equal(described.code, 0, described.stderr);
      assert.equal(
        (JSON.parse(described.stdout) as { request: { asset_ids: string[] } }).request.asset_ids.length,
        IDS,
      );

      const triggered = await runCli(['schedule', 'trigger', id, '--wait', '--json'], stack.env);
      assert.equal(triggered.code, 0, triggered.stderr + triggered.stdout);
      const outcome = JSON.parse(triggered.stdout) as {
        dispatch_id: string;
        progress: { counts: { succeeded: number }; plan: { warnings: string[] } };
      };
      assert.equal(outcome.progress.counts.succeeded, 3);
      assert.ok((await measure(dispatchWorkflowId(outcome.dispatch_id))) < 2_000);
    } finally {
      const deleted = await runCli(['schedule', 'delete', id], stack.env);
      assert.equal(deleted.code, 0, deleted.stderr);
    }
    assert.equal(await requests().countDocuments({ request_id: { $regex: `^schedule-${id}-` } }), 0);
  });

  test('no payload of these dispatches and their jobs grew with the selection', () => {
    assert.ok(largest.input > 0 && largest.input < 2_000, `largest workflow input ${largest.input} bytes`);
    assert.ok(largest.payload < 32 * 1024, `largest payload ${largest.payload} bytes`);
  });
});
