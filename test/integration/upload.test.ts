import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import { createStorageActivities } from '../../src/activities/storage';
import { keepResultList } from '../../src/analysis/result-files';
import { loadRegistry } from '../../src/analysis/registry';
import { stores } from '../../src/storage/database';
import { METADATA_FILE, type EarlierRunResult, type RunResult } from '../../src/task-record';
import type { StoredRecord } from '../../src/types';
import { makeTask } from '../fixtures/tasks';
import { FIXTURE_ANALYSES, listKeys, ROOT, testStack, type TestStack } from '../helpers/stack';

/**
 * The upload step against the real S3 server. A retry must not undo a finished upload: when the
 * server restarts, an attempt that uploaded everything and removed its local folder may never get
 * its completion through, and its retry then finds no folder.
 */
/** The results `prepare` leaves in a run's folder. */
const LISTED = ['figures/plot.txt', 'outputs.json'];

describe('upload of a run’s results', () => {
  let stack: TestStack;
  before(async () => {
    stack = await testStack('upload');
  });
  after(() => stack.close());
  const records = () =>
    stack.mongo.db(stack.config.DOCDB_DATABASE).collection<StoredRecord>(stack.config.DOCDB_COLLECTION);

  async function prepare(
    name: string,
  ): Promise<{ task: ReturnType<typeof makeTask>; run: RunResult; prefix: string }> {
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
      result_files: await keepResultList(workDir, LISTED),
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
    const { task, run, prefix } = await prepare('retry');
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
    const { task, run, prefix } = await prepare('lost');
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

  /** A run's folder as a worker of an earlier version left it: results, and no listing beside them. */
  function earlierRun(
    name: string,
    files: string[],
  ): { task: ReturnType<typeof makeTask>; run: EarlierRunResult } {
    const task = makeTask(
      { analysis_name: 'Upload', s3_output_bucket: stack.bucket },
      { parameters: { name } },
    );
    const workDir = join(stack.config.ANALYSIS_WORK_DIR!, name);
    mkdirSync(join(workDir, 'results', 'store.zarr'), { recursive: true });
    writeFileSync(join(workDir, 'results', 'store.zarr', '.zgroup'), '{}\n');
    writeFileSync(join(workDir, 'results', 'store.zarr', '0'), 'chunk\n');
    const run: EarlierRunResult = {
      workerQueue: 'unused',
      workDir,
      outputs: {},
      files,
      code: {},
      worker_host: 'test',
      started_at: '2026-01-01T00:00:00.000Z',
      finished_at: '2026-01-01T00:00:01.000Z',
    };
    return { task, run };
  }

  const allActivities = async () =>
    createActivities({
      stores: stores(stack.mongo, stack.config),
      s3: stack.s3,
      registry: await loadRegistry(FIXTURE_ANALYSES),
      registryDir: FIXTURE_ANALYSES,
      commandRoot: ROOT,
      passEnv: [],
      allowSpecCommands: false,
      workRoot: stack.config.ANALYSIS_WORK_DIR!,
      workerQueue: 'unused',
      temporal: () => stack.client,
    });

  test('an upload cut short leaves its marker; the next run of the task removes what it left, and its commit the marker', async () => {
    const activities = await allActivities();
    const env = new MockActivityEnvironment();
    const { task, run, prefix } = await prepare('cut');
    const marker = `${task.hash}.uploading`;
    // A run whose listing names a file that is gone stops part-way, as a lost worker would.
    const cut = { ...run, result_files: await keepResultList(run.workDir, [...LISTED, 'gone.txt']) };
    await assert.rejects(env.run(activities.uploadResults, { task, run: cut, dispatchId: 'd1' }), /ENOENT/);
    assert.deepEqual(await listKeys(stack.s3, stack.bucket, marker), [marker], 'the marker stays');
    // What else such an attempt leaves, whichever files it reached.
    await stack.s3.send(new PutObjectCommand({ Bucket: stack.bucket, Key: `${prefix}stale.txt`, Body: 'x' }));

    const next = await prepare('cut-next');
    const input = { task, run: next.run, dispatchId: 'd2' };
    await env.run(activities.uploadResults, input);
    const expected = [...LISTED, METADATA_FILE].map((file) => prefix + file).sort();
    assert.deepEqual((await listKeys(stack.s3, stack.bucket, prefix)).sort(), expected);
    assert.equal(await env.run(activities.commitTask, { ...input, owner: 'job-1', force: false }), 'written');
    assert.deepEqual(await listKeys(stack.s3, stack.bucket, marker), [], 'the commit took the marker away');
    assert.deepEqual((await listKeys(stack.s3, stack.bucket, prefix)).sort(), expected);
  });

  test('an upload to a folder without a marker leaves what is there, unless it is a retry', async () => {
    const { uploadResults } = createStorageActivities({ s3: stack.s3, records: records() });
    for (const attempt of [1, 2]) {
      const { task, run, prefix } = await prepare(`unmarked-${attempt}`);
      // Put there by someone else, or by an attempt of a worker that marked nothing.
      await stack.s3.send(
        new PutObjectCommand({ Bucket: stack.bucket, Key: `${prefix}theirs.txt`, Body: 'x' }),
      );
      await new MockActivityEnvironment({ attempt }).run(uploadResults, { task, run, dispatchId: 'd1' });
      const kept = attempt === 1 ? ['theirs.txt'] : [];
      assert.deepEqual(
        (await listKeys(stack.s3, stack.bucket, prefix)).sort(),
        [...LISTED, METADATA_FILE, ...kept].map((file) => prefix + file).sort(),
        `attempt ${attempt}`,
      );
    }
  });

  test('a run result of an earlier version, with its list, is uploaded and committed by this one', async () => {
    const activities = await allActivities();
    const env = new MockActivityEnvironment();
    const files = ['store.zarr/.zgroup', 'store.zarr/0'];
    const { task, run } = earlierRun('earlier', files);
    const input = { task, run, dispatchId: 'd1' };
    const uploaded = (await env.run(activities.uploadResults, input)) as Awaited<
      ReturnType<typeof activities.uploadResults>
    >;
    assert.equal(uploaded.objects, 3);
    assert.equal(await env.run(activities.commitTask, { ...input, owner: 'job-1', force: false }), 'written');
    const record = await records().findOne({ _id: task.hash });
    assert.deepEqual(record?.files, files);
    const copy = await stack.s3.send(
      new GetObjectCommand({ Bucket: stack.bucket, Key: `${task.hash}/${METADATA_FILE}` }),
    );
    assert.deepEqual(JSON.parse((await copy.Body?.transformToString()) ?? ''), record);
  });

  test('a list that no listing gives, in a run result of an earlier version, is refused and nothing is uploaded', async () => {
    const { uploadResults } = createStorageActivities({ s3: stack.s3, records: records() });
    const env = new MockActivityEnvironment();
    for (const [name, files] of [
      ['climbs', ['store.zarr/../store.zarr/0']],
      ['twice', ['store.zarr/0', 'store.zarr/0']],
      ['absolute', ['/etc/hostname']],
    ] as const) {
      const { task, run } = earlierRun(`refused-${name}`, [...files]);
      await assert.rejects(env.run(uploadResults, { task, run, dispatchId: 'd1' }), (err: unknown) => {
        assert.ok(err instanceof ApplicationFailure);
        assert.equal(err.type, 'UnsafeResults');
        assert.equal(err.nonRetryable, true);
        return true;
      });
      assert.deepEqual(await listKeys(stack.s3, stack.bucket, `${task.hash}/`), []);
    }
  });

  test('a run whose listing was changed or removed since the run runs again, with nothing uploaded', async () => {
    const { uploadResults } = createStorageActivities({ s3: stack.s3, records: records() });
    const env = new MockActivityEnvironment();
    for (const change of ['changed', 'removed'] as const) {
      const { task, run, prefix } = await prepare(`listing-${change}`);
      const listing = join(run.workDir, 'result-files.json');
      if (change === 'changed') writeFileSync(listing, JSON.stringify(['outputs.json']));
      else rmSync(listing);
      await assert.rejects(env.run(uploadResults, { task, run, dispatchId: 'd1' }), (err: unknown) => {
        assert.ok(err instanceof ApplicationFailure);
        assert.equal(err.type, 'ResultsLost');
        assert.equal(err.nonRetryable, true);
        assert.match(err.message, /the list of this run's results/);
        return true;
      });
      assert.deepEqual(await listKeys(stack.s3, stack.bucket, prefix), []);
    }
  });
});
