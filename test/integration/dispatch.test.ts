import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli';
import { seedAssets, writeSpec } from '../helpers/data';
import { listKeys, ROOT, testStack, type TestStack } from '../helpers/stack';
import type { StoredRecord } from '../../src/types';
import { dispatchWorkflowId, jobWorkflowId } from '../../src/workflow-ids';
import { maxOverlap, timesOf } from '../helpers/records';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'analyses');

describe('dispatch', () => {
  let stack: TestStack;
  let dir: string;

  before(async () => {
    stack = await testStack('dispatch');
    stack.env.ANALYSIS_MODULES_DIR = FIXTURES;
    await stack.startWorker({ ANALYSIS_MODULES_DIR: FIXTURES });
    dir = mkdtempSync(join(tmpdir(), 'dispatch-test-'));
  });
  after(async () => stack?.close());

  test('runs every task once, uploads its files and writes one record each', async () => {
    await seedAssets(stack, { count: 6, files: ['data/units.csv', 'data/other.txt'] });
    const spec = writeSpec(dir, [
      { analysis_name: 'Noop', analysis_version: '1.0.0', analysis_parameters: { label: 'x' } },
    ]);
    const result = await runCli(
      [
        'dispatch',
        '--query',
        '{"name": {"$regex": "^asset_"}}',
        '--file_extension',
        '.csv',
        '--analysis_spec',
        spec,
        '--num_parallel_workers',
        '3',
        '--wait',
      ],
      stack.env,
    );
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assert.match(result.stdout, /dispatch \d{8}-\d{6}-[0-9a-f]{4}/);
    const ui = stack.env.TEMPORAL_UI_URL ?? 'http://localhost:8233';
    assert.ok(result.stdout.includes(`web ui   ${ui}/namespaces/default/workflows/dispatch-`), result.stdout);
    const records = await stack.mongo
      .db(stack.config.DOCDB_DATABASE)
      .collection<StoredRecord>(stack.config.DOCDB_COLLECTION)
      .find()
      .toArray();
    assert.equal(records.length, 6);
    for (const record of records) {
      assert.equal(record.analysis_name, 'Noop');
      assert.equal(record.input.file_location.length, 1);
      assert.match(record.input.file_location[0]!, /units\.csv$/);
      const keys = await listKeys(stack.s3, stack.bucket, `${record._id}/`);
      assert.deepEqual(keys, [`${record._id}/metadata.nd.json`, `${record._id}/noop.txt`]);
      assert.equal(record.location, `s3://${stack.bucket}/${record._id}`);
    }
    // A one-task job is one activity and one local step: the run uploaded its files and wrote its
    // record itself, and gave back its lock.
    const id = /dispatch (\d{8}-\d{6}-[0-9a-f]{4})/.exec(result.stdout)![1]!;
    const job = jobWorkflowId(dispatchWorkflowId(id), 0);
    const events = (await stack.client.workflow.getHandle(job).fetchHistory()).events ?? [];
    const activities = events.flatMap(
      (event) => event.activityTaskScheduledEventAttributes?.activityType?.name ?? [],
    );
    const localSteps = events.flatMap((event) => {
      const data = event.markerRecordedEventAttributes?.details?.data?.payloads?.[0]?.data;
      return data
        ? [(JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type: string }).activity_type]
        : [];
    });
    assert.deepEqual([activities, localSteps], [['runTask'], ['openJob']]);
    const locks = stack.mongo
      .db(stack.config.DOCDB_DATABASE)
      .collection(`${stack.config.DOCDB_COLLECTION}_locks`);
    assert.equal(await locks.countDocuments(), 0);

    // The same dispatch again finds everything done and runs nothing.
    const again = await runCli(
      [
        'dispatch',
        '--query',
        '{"name": {"$regex": "^asset_"}}',
        '--file_extension',
        '.csv',
        '--analysis_spec',
        spec,
        '--wait',
      ],
      stack.env,
    );
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /6 already done/);
    assert.equal(
      await stack.mongo
        .db(stack.config.DOCDB_DATABASE)
        .collection(stack.config.DOCDB_COLLECTION)
        .countDocuments(),
      6,
    );
  });

  test('never runs more jobs at once than --num_parallel_workers, and continues as new', async () => {
    await seedAssets(stack, { count: 12, namePrefix: 'window', files: ['a.csv'] });
    const spec = writeSpec(
      dir,
      [{ analysis_name: 'Sleep', analysis_version: '1', analysis_parameters: { ms: 600 } }],
      'sleep.json',
    );
    const result = await runCli(
      [
        'dispatch',
        '--query',
        '{"name": {"$regex": "^window_"}}',
        '--analysis_spec',
        spec,
        '--num_parallel_workers',
        '4',
        '--wait',
        '--json',
      ],
      { ...stack.env, ANALYSIS_CONTINUE_AS_NEW_AFTER: '5' },
    );
    assert.equal(result.code, 0, result.stderr);
    const outcome = JSON.parse(result.stdout);
    assert.equal(outcome.progress.counts.succeeded, 12);
    assert.ok(outcome.progress.runs >= 3, `expected continue-as-new, saw ${outcome.progress.runs} runs`);
    const records = await stack.mongo
      .db(stack.config.DOCDB_DATABASE)
      .collection<StoredRecord>(stack.config.DOCDB_COLLECTION)
      .find({ analysis_name: 'Sleep' })
      .toArray();
    assert.equal(records.length, 12);
    assert.equal(new Set(records.map((r) => r._id)).size, 12);
    const peak = maxOverlap(records.map(timesOf));
    assert.ok(peak <= 4, `at most 4 jobs at once, saw ${peak}`);
    assert.ok(peak >= 2, `jobs ran in parallel (peak ${peak})`);
  });

  test('overlapping dispatches of the same tasks run each task once, never twice at once', async () => {
    await seedAssets(stack, { count: 4, namePrefix: 'overlap', files: ['a.csv'] });
    const runLog = join(dir, 'runs.log');
    process.env.RUN_LOG = runLog;
    try {
      const spec = writeSpec(
        dir,
        [{ analysis_name: 'Counted', analysis_version: '1', analysis_parameters: { ms: 1500 } }],
        'counted.json',
      );
      const args = [
        'dispatch',
        '--query',
        '{"name": {"$regex": "^overlap_"}}',
        '--analysis_spec',
        spec,
        '--num_parallel_workers',
        '4',
        '--wait',
        '--json',
      ];
      const [first, second] = await Promise.all([runCli(args, stack.env), runCli(args, stack.env)]);
      assert.equal(first.code, 0, first.stderr);
      assert.equal(second.code, 0, second.stderr);
      const lines = readFileSync(runLog, 'utf8').trim().split('\n');
      const starts = lines.filter((line) => line.startsWith('start ')).map((line) => line.split(' ')[1]);
      assert.equal(starts.length, 4, `each of the 4 tasks ran once: ${lines.join(' | ')}`);
      assert.equal(new Set(starts).size, 4);
      const records = await stack.mongo
        .db(stack.config.DOCDB_DATABASE)
        .collection(stack.config.DOCDB_COLLECTION)
        .countDocuments({ analysis_name: 'Counted' });
      assert.equal(records, 4);
    } finally {
      delete process.env.RUN_LOG;
    }
  });
});
