import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { loadRegistry } from '../../src/analysis/registry';
import { stores } from '../../src/storage/database';
import { folderOf } from '../../src/storage/task-commit';
import { METADATA_FILE } from '../../src/task-record';
import { temporalSettings } from '../../src/temporal';
import type { StoredRecord, Task } from '../../src/types';
import { dispatchWorkflowId, jobWorkflowId } from '../../src/workflow-ids';
import { runCli } from '../helpers/cli';
import { seedAssets, writeSpec } from '../helpers/data';
import {
  FIXTURE_ANALYSES,
  listKeys,
  ROOT,
  testStack,
  workflowBundle,
  type TestStack,
} from '../helpers/stack';

/** Chunks of the zarr-like store the analysis writes: its list alone is tens of kilobytes. */
const CHUNKS = 2_000;
/** What any payload of a job's history may weigh, whatever the number of result files. */
const PAYLOAD_LIMIT = 4 * 1024;

/** Every payload of a history event, decoded as the text it is (JSON). */
function payloadTexts(value: unknown, found: string[] = []): string[] {
  if (value === null || typeof value !== 'object') return found;
  const payloads = (value as { payloads?: Array<{ data?: Uint8Array | null }> }).payloads;
  if (Array.isArray(payloads))
    for (const payload of payloads) found.push(Buffer.from(payload.data ?? []).toString('utf8'));
  else for (const child of Object.values(value)) payloadTexts(child, found);
  return found;
}

/**
 * A run that writes a zarr store of thousands of files: the job's history carries their count,
 * never their names, whichever steps upload and commit; the record and its uploaded copy list
 * every file. Once with the run step uploading and committing itself (the usual path), once with
 * the job's own upload and commit steps (the path taken when the run step's upload fails).
 */
describe('result file lists stay out of the job’s history', () => {
  const dir = mkdtempSync(join(tmpdir(), 'result-payloads-'));
  const spec = writeSpec(dir, [
    { analysis_name: 'Many Files', analysis_version: '1', analysis_parameters: { chunks: CHUNKS } },
  ]);

  async function dispatchOne(stack: TestStack): Promise<string> {
    await seedAssets(stack, { count: 1 });
    const result = await runCli(
      ['dispatch', '--query', '{"name": "asset_0000"}', '--analysis_spec', spec, '--wait'],
      { ...stack.env, ANALYSIS_MODULES_DIR: FIXTURE_ANALYSES },
      { timeoutMs: 300_000 },
    );
    assert.equal(result.code, 0, result.stderr + result.stdout);
    return /dispatch (\d{8}-\d{6}-[0-9a-f]{4})/.exec(result.stdout)![1]!;
  }

  /** The job's steps, by name, and every payload of its history. */
  async function jobHistory(stack: TestStack, dispatchId: string) {
    const job = jobWorkflowId(dispatchWorkflowId(dispatchId), 0);
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
    return { activities, localSteps, payloads: events.flatMap((event) => payloadTexts(event)) };
  }

  /** The record lists every file the analysis wrote; its uploaded copy is the record; S3 holds them. */
  async function checkRecord(stack: TestStack): Promise<void> {
    const records = stack.mongo
      .db(stack.config.DOCDB_DATABASE)
      .collection<StoredRecord>(stack.config.DOCDB_COLLECTION);
    const [record, ...others] = await records.find().toArray();
    assert.ok(record, 'one record');
    assert.equal(others.length, 0);
    const chunks = Array.from({ length: CHUNKS }, (_, i) => `units.zarr/spike_times/chunk-${i}`);
    const expected = [...chunks, 'units.zarr/.zgroup', 'units.zarr/spike_times/.zarray'].sort();
    assert.deepEqual(record.files, expected);
    const { bucket, prefix } = folderOf(record.location);
    const copy = await stack.s3.send(new GetObjectCommand({ Bucket: bucket, Key: prefix + METADATA_FILE }));
    assert.deepEqual(JSON.parse(await copy.Body!.transformToString()), record);
    assert.deepEqual(
      await listKeys(stack.s3, bucket, prefix),
      [...expected, METADATA_FILE].map((file) => prefix + file).sort(),
    );
  }

  function checkPayloads(payloads: string[]): void {
    assert.ok(payloads.length > 0);
    for (const text of payloads) {
      assert.ok(
        !text.includes('chunk-') && !text.includes('units.zarr'),
        `a file name in ${text.slice(0, 300)}`,
      );
      assert.ok(
        Buffer.byteLength(text) <= PAYLOAD_LIMIT,
        `a payload of ${Buffer.byteLength(text)} bytes: ${text.slice(0, 300)}`,
      );
    }
    // The run step's result says how many files there are.
    assert.ok(
      payloads.some((text) => text.includes(`"result_files":{"count":${CHUNKS + 2},`)),
      'the count is in the history',
    );
  }

  describe('the run step uploads and commits', () => {
    let stack: TestStack;
    before(async () => {
      stack = await testStack('payloads-run');
      await stack.startWorker({ ANALYSIS_MODULES_DIR: FIXTURE_ANALYSES });
    });
    after(() => stack?.close());

    test('its result holds a count, never the names, in a few kilobytes', async () => {
      const id = await dispatchOne(stack);
      const { activities, localSteps, payloads } = await jobHistory(stack, id);
      assert.deepEqual([activities, localSteps], [['runTask'], ['openJob']]);
      checkPayloads(payloads);
      await checkRecord(stack);
    });
  });

  describe('the job’s own upload and commit steps', () => {
    let stack: TestStack;
    let connection: NativeConnection;
    let workers: Worker[] = [];
    let running: Promise<unknown>;
    before(async () => {
      stack = await testStack('payloads-steps');
      const settings = temporalSettings();
      connection = await NativeConnection.connect(settings.connectionOptions);
      const workerQueue = `${stack.config.TEMPORAL_TASK_QUEUE}@steps`;
      const activities = createActivities({
        stores: stores(stack.mongo, stack.config),
        s3: stack.s3,
        registry: await loadRegistry(FIXTURE_ANALYSES),
        registryDir: FIXTURE_ANALYSES,
        commandRoot: ROOT,
        passEnv: [],
        allowSpecCommands: false,
        workRoot: join(stack.config.ANALYSIS_WORK_DIR!, 'runs'),
        workerQueue,
        temporal: () => stack.client,
      });
      workers = [
        await Worker.create({
          connection,
          namespace: settings.namespace,
          taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
          workflowBundle: await workflowBundle(),
          activities: {
            ...activities,
            // A run step that leaves both to the job, as one whose own upload failed does.
            runTask: (input: { task: Task; dispatchId: string }) =>
              activities.runTask({ task: input.task, dispatchId: input.dispatchId }),
          },
        }),
        await Worker.create({
          connection,
          namespace: settings.namespace,
          taskQueue: workerQueue,
          activities: { uploadResults: activities.uploadResults, discardResults: activities.discardResults },
        }),
      ];
      running = Promise.all(workers.map((worker) => worker.run()));
    });
    after(async () => {
      for (const worker of workers) worker.shutdown();
      await running;
      await connection?.close();
      await stack?.close();
    });

    test('their inputs hold a count, never the names, in a few kilobytes', async () => {
      const id = await dispatchOne(stack);
      const { activities, localSteps, payloads } = await jobHistory(stack, id);
      assert.deepEqual(
        [activities, localSteps],
        [
          ['runTask', 'uploadResults'],
          ['openJob', 'commitTask'],
        ],
      );
      checkPayloads(payloads);
      await checkRecord(stack);
    });
  });
});
