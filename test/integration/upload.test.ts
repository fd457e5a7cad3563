import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createStorageActivities } from '../../src/activities/storage';
import type { RunResult } from '../../src/task-record';
import type { StoredRecord } from '../../src/types';
import { makeTask } from '../fixtures/tasks';
import { listKeys, testStack, type TestStack } from '../helpers/stack';

/**
 * The upload step against the real S3 server. A retry must not undo a finished upload: when the
 * server restarts, an attempt that uploaded everything and removed its local folder may never get
 * its completion through, and its retry then finds no folder.
 */
describe('upload of a run’s results', () => {
  let stack: TestStack;
  before(async () => {
    stack = await testStack('upload');
  });
  after(() => stack.close());
  const records = () =>
    stack.mongo.db(stack.config.DOCDB_DATABASE).collection<StoredRecord>(stack.config.DOCDB_COLLECTION);

  function prepare(name: string): { task: ReturnType<typeof makeTask>; run: RunResult; prefix: string } {
    const task = makeTask(
      { analysis_name: 'Upload', s3_output_bucket: stack.bucket },
      { parameters: { name } },
    );
    const hash = task.hash;
    const workDir = join(stack.config.ANALYSIS_WORK_DIR!, name);
    mkdirSync(join(workDir, 'results', 'figures'), { recursive: true });
    writeFileSync(join(workDir, 'results', 'outputs.json'), '{"rate": 2}\n');
    writeFileSync(join(workDir, 'results', 'figures', 'plot.txt'), 'a plot\n');
    const run: RunResult = {
      workerQueue: 'unused',
      workDir,
      outputs: { rate: 2 },
      files: ['figures/plot.txt', 'outputs.json'],
      code: {},
      worker_host: 'test',
      started_at: '2026-01-01T00:00:00.000Z',
      finished_at: '2026-01-01T00:00:01.000Z',
    };
    return { task, run, prefix: `${hash}/` };
  }

  test('a retry after a finished upload whose completion was lost keeps the objects and succeeds', async () => {
    const { uploadResults } = createStorageActivities({ s3: stack.s3, records: records() });
    const env = new MockActivityEnvironment();
    const { task, run, prefix } = prepare('retry');
    const input = { task, run, dispatchId: 'd1' };

    const first = (await env.run(uploadResults, input)) as Awaited<ReturnType<typeof uploadResults>>;
    assert.equal(first.objects, 3);
    assert.equal(existsSync(run.workDir), false, 'the local folder is removed once uploaded');
    const expected = [`${prefix}figures/plot.txt`, `${prefix}metadata.nd.json`, `${prefix}outputs.json`];
    assert.deepEqual((await listKeys(stack.s3, stack.bucket, prefix)).sort(), expected);

    const again = (await env.run(uploadResults, input)) as Awaited<ReturnType<typeof uploadResults>>;
    assert.equal(again.objects, 3);
    assert.equal(again.bytes, first.bytes);
    assert.deepEqual((await listKeys(stack.s3, stack.bucket, prefix)).sort(), expected);
  });

  test('a run whose files are gone, with no finished upload, fails for a rerun and touches nothing', async () => {
    const { uploadResults } = createStorageActivities({ s3: stack.s3, records: records() });
    const env = new MockActivityEnvironment();
    const { task, run, prefix } = prepare('lost');
    await env.run(uploadResults, { task, run, dispatchId: 'd1' });
    // Another run of the same task (its times differ) whose folder is not there.
    const other = { ...run, finished_at: '2026-01-01T00:00:09.000Z' };
    await assert.rejects(env.run(uploadResults, { task, run: other, dispatchId: 'd1' }), (err: unknown) => {
      assert.ok(err instanceof ApplicationFailure);
      assert.equal(err.type, 'ResultsLost');
      assert.equal(err.nonRetryable, true);
      assert.match(err.message, /no longer on this worker/);
      return true;
    });
    assert.equal(
      (await listKeys(stack.s3, stack.bucket, prefix)).length,
      3,
      'the earlier upload is untouched',
    );
    const copy = await stack.s3.send(
      new GetObjectCommand({ Bucket: stack.bucket, Key: `${prefix}metadata.nd.json` }),
    );
    assert.match((await copy.Body?.transformToString()) ?? '', /"end_date_time":"2026-01-01T00:00:01.000Z"/);
  });
});
