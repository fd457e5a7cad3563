import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Collection } from 'mongodb';
import { createActivities } from '../../src/activities';
import { createRunActivities } from '../../src/activities/run';
import { loadRegistry } from '../../src/analysis/registry';
import { stores } from '../../src/storage/database';
import { createLeases } from '../../src/storage/leases';
import { folderOf } from '../../src/storage/task-commit';
import { METADATA_FILE, type RunResult } from '../../src/task-record';
import type { StoredRecord } from '../../src/types';
import { makeTask } from '../fixtures/tasks';
import { FIXTURE_ANALYSES, listKeys, ROOT, testStack, type TestStack } from '../helpers/stack';

/**
 * The run step that uploads its results and writes the task's record itself, saving the job both
 * steps, against the real database and S3 server; and what it leaves to the job when it cannot.
 */
describe('a run step that uploads and commits', () => {
  let stack: TestStack;
  let activities: ReturnType<typeof createActivities>;
  const env = new MockActivityEnvironment();

  before(async () => {
    stack = await testStack('runstep');
    activities = createActivities(deps(await loadRegistry(FIXTURE_ANALYSES)));
  });
  after(() => stack.close());

  function deps(registry: Awaited<ReturnType<typeof loadRegistry>>) {
    return {
      stores: stores(stack.mongo, stack.config),
      s3: stack.s3,
      registry,
      registryDir: FIXTURE_ANALYSES,
      commandRoot: ROOT,
      passEnv: [],
      allowSpecCommands: false,
      workRoot: join(stack.config.ANALYSIS_WORK_DIR!, 'runs'),
      workerQueue: 'this-worker',
      temporal: () => stack.client,
    };
  }

  const noopTask = (name: string) =>
    makeTask({ analysis_name: 'Noop', s3_output_bucket: stack.bucket }, { parameters: { name } });
  const records = () =>
    stack.mongo.db(stack.config.DOCDB_DATABASE).collection<StoredRecord>(stack.config.DOCDB_COLLECTION);
  /** The copy of a record uploaded with its results, where the record says they are. */
  const uploadedCopy = async (record: StoredRecord): Promise<unknown> => {
    const { bucket, prefix } = folderOf(record.location);
    const object = await stack.s3.send(new GetObjectCommand({ Bucket: bucket, Key: prefix + METADATA_FILE }));
    return JSON.parse(await object.Body!.transformToString());
  };
  const locks = () =>
    stack.mongo.db(stack.config.DOCDB_DATABASE).collection(`${stack.config.DOCDB_COLLECTION}_locks`);

  test('writes the record once and gives back the lock; a repeated attempt finds it written', async () => {
    const task = noopTask('committed');
    const owner = 'dispatch-x-job-0';
    await activities.claimTasks({ tasks: [task], owner, force: false, dryRun: false });
    assert.equal(await locks().countDocuments({ _id: task.hash } as never), 1);
    const input = { task, dispatchId: 'x', upload: true, commit: { owner, force: false } };

    const first = (await env.run(activities.runTask, input)) as RunResult;
    assert.equal(first.committed, 'written');
    assert.equal(first.uploaded?.objects, 2);
    const record = await records().findOne({ _id: task.hash });
    assert.equal(record?.analysis_name, 'Noop');
    assert.equal(record?.dispatch_id, 'x');
    assert.deepEqual((await listKeys(stack.s3, stack.bucket, `${task.hash}/`)).sort(), [
      `${task.hash}/metadata.nd.json`,
      `${task.hash}/noop.txt`,
    ]);
    assert.equal(await locks().countDocuments({ _id: task.hash } as never), 0, 'the lock is given back');

    // The same attempt made again (its write landed, its answer did not reach the job) finds the
    // record there.
    const again = (await env.run(activities.runTask, input)) as RunResult;
    assert.equal(again.committed, 'existed');
    assert.equal(await records().countDocuments({ _id: task.hash }), 1);
  });

  test('a later attempt that finds the record of its dispatch runs nothing and leaves the files as they are', async () => {
    const task = noopTask('retried');
    const input = {
      task,
      dispatchId: 'x',
      upload: true,
      commit: { owner: 'dispatch-x-job-1', force: false },
    };
    const first = (await env.run(activities.runTask, input)) as RunResult;
    assert.equal(first.committed, 'written');
    const metadata = `${task.hash}/metadata.nd.json`;
    const before = await stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: metadata }));

    // The first attempt's process died between writing the record and giving back the lock.
    await locks().insertOne({ _id: task.hash, owner: input.commit.owner, since: new Date() } as never);
    const retry = new MockActivityEnvironment({ attempt: 2 });
    const second = (await retry.run(activities.runTask, input)) as RunResult;
    assert.equal(second.committed, 'existed');
    assert.equal(await locks().countDocuments({ _id: task.hash } as never), 0, 'the lock is given back');
    assert.ok(second.uploaded, 'the job is told the upload is done too');
    const after = await stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: metadata }));
    assert.equal(after.ETag, before.ETag, 'the record and the files stay those of the first run');
    assert.equal((await records().findOne({ _id: task.hash }))?.dispatch_id, 'x');

    // A record of another dispatch (a forced rerun replaces it) does not stop the run, which takes
    // the lock the first attempt gave back; a lock another running workflow holds does.
    const other = (await retry.run(activities.runTask, { ...input, dispatchId: 'y' })) as RunResult;
    assert.equal(other.committed, 'existed');
    assert.notEqual(other.workDir, '', 'it ran');
    // It ran beside the record that came first, which keeps its objects, its copy among them.
    const kept = await records().findOne({ _id: task.hash });
    assert.equal(kept?.dispatch_id, 'x');
    assert.deepEqual(await uploadedCopy(kept!), kept);
    assert.deepEqual(await listKeys(stack.s3, stack.bucket, `${task.hash}/`), [
      `${task.hash}/metadata.nd.json`,
      `${task.hash}/noop.txt`,
    ]);
    const held = { task: noopTask('held'), dispatchId: 'x', upload: true };
    // The lock's owner: a real workflow that stays running (no worker polls its queue).
    const owner = await stack.client.workflow.start('nobodyRunsThis', {
      taskQueue: `${stack.name}-nobody`,
      workflowId: `${stack.name}-still-running`,
    });
    try {
      await locks().insertOne({ _id: held.task.hash, owner: owner.workflowId, since: new Date() } as never);
      await assert.rejects(
        retry.run(activities.runTask, { ...held, commit: { owner: 'dispatch-x-job-2', force: false } }),
        /another dispatch took this task's lock/,
      );
    } finally {
      await owner.terminate('test over');
    }
    assert.equal(await records().countDocuments({ _id: held.task.hash }), 0);
  });

  test('a record it cannot write is left to the job’s commit step, with the upload done', async () => {
    const away = async () => {
      throw new Error('the database is away');
    };
    const failing = createRunActivities({
      ...deps(await loadRegistry(FIXTURE_ANALYSES)),
      // It reads (no record yet: the upload goes to the task's folder) but cannot write.
      records: {
        insertOne: away,
        replaceOne: away,
        findOne: async () => null,
      } as unknown as Collection<StoredRecord>,
      taskLocks: { claim: async () => true, release: async () => {} },
      leases: createLeases({ leases: stores(stack.mongo, stack.config).leases, isRunning: async () => true }),
    });
    const task = noopTask('uncommitted');
    const run = (await env.run(failing.runTask, {
      task,
      dispatchId: 'x',
      upload: true,
      commit: { owner: 'o', force: false },
    })) as RunResult;
    assert.equal(run.committed, undefined);
    assert.equal(run.uploaded?.objects, 2);
    assert.equal(await records().countDocuments({ _id: task.hash }), 0);
  });

  test('without `commit` it writes nothing, as jobs of earlier versions expect', async () => {
    const task = noopTask('plain');
    const run = (await env.run(activities.runTask, { task, dispatchId: 'x', upload: true })) as RunResult;
    assert.equal(run.committed, undefined);
    assert.equal(await records().countDocuments({ _id: task.hash }), 0);
  });
});
