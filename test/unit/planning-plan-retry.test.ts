import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Collection } from 'mongodb';
import { InputError } from '../../src/errors';
import { inputDigest } from '../../src/input-digest';
import { planRetry } from '../../src/planning/plan-retry';
import type { PlanStore } from '../../src/storage/plan-store';
import type { StoredRecord, Task } from '../../src/types';

const task = (hash: string, asset: string): Task =>
  ({
    hash,
    analysis: { analysis_name: 'Unit Yield' },
    input: { s3_location: [`s3://data/${asset}`] },
  }) as Task;

/** A plan store holding one plan, and recording what is saved. */
function fakeStore(jobs: Task[][]) {
  const saved: Array<{ dispatchId: string; jobs: Task[][] }> = [];
  const store = {
    async *iterateJobs() {
      for (const [index, tasks] of jobs.entries()) yield { index, tasks };
    },
    async save(dispatchId: string, toSave: Task[][]) {
      saved.push({ dispatchId, jobs: toSave });
      return { jobs_per_page: 7 };
    },
  } as unknown as PlanStore;
  return { store, saved };
}

const recordsOf = (ids: string[]) =>
  ({
    find: () => ({
      async *[Symbol.asyncIterator]() {
        for (const _id of ids) yield { _id };
      },
    }),
  }) as unknown as Collection<StoredRecord>;

describe('planning/plan-retry', () => {
  test('planRetry plans only the tasks without a record, in jobs of the size asked', async () => {
    const { store, saved } = fakeStore([
      [task('a', 'x'), task('b', 'x')],
      [task('c', 'y')],
      [task('d', 'z')],
    ]);
    let beats = 0;
    const summary = await planRetry(
      { records: recordsOf(['b']), store, heartbeat: () => void beats++ },
      { retryOf: 'old', dispatchId: 'new', tasksPerJob: 2 },
    );
    assert.deepEqual(
      saved.map(({ dispatchId, jobs }) => [dispatchId, jobs.map((job) => job.map((t) => t.hash))]),
      [['new', [['a', 'c'], ['d']]]],
    );
    assert.equal(beats, 1);
    assert.deepEqual(summary, {
      plan_id: 'new',
      assets: 3,
      assets_without_location: 0,
      assets_without_files: 0,
      tasks_total: 4,
      tasks_new: 3,
      tasks_done: 1,
      tasks_changed_code: 0,
      tasks_to_run: 3,
      jobs: 2,
      jobs_per_page: 7,
      warnings: [],
    });
  });

  test('a task planned to replace its record is retried until a record of its current inputs replaced it', async () => {
    const fingerprinted = (hash: string, etag: string): Task => ({
      ...task(hash, 'x'),
      input_fingerprints: [{ url: `s3://data/x/${hash}`, size: 1, etag }],
      replace_record: true,
    });
    const { store, saved } = fakeStore([
      [fingerprinted('a', 'new'), fingerprinted('b', 'new'), task('c', 'x')],
    ]);
    const records = {
      find: () => ({
        async *[Symbol.asyncIterator]() {
          // a: still the record of the earlier inputs; b: replaced; c: done, planned to run anyway.
          yield { _id: 'a', input_digest: inputDigest([{ url: 's3://data/x/a', size: 1, etag: 'old' }]) };
          yield { _id: 'b', input_digest: inputDigest([{ url: 's3://data/x/b', size: 1, etag: 'new' }]) };
          yield { _id: 'c' };
        },
      }),
    } as unknown as Collection<StoredRecord>;
    await planRetry({ records, store }, { retryOf: 'old', dispatchId: 'new', tasksPerJob: 5 });
    assert.deepEqual(
      saved[0]?.jobs.flat().map((t) => t.hash),
      ['a'],
    );
  });

  test('planRetry of a dispatch without a stored plan is an input error', async () => {
    const { store, saved } = fakeStore([]);
    await assert.rejects(
      planRetry({ records: recordsOf([]), store }, { retryOf: 'gone', dispatchId: 'new', tasksPerJob: 1 }),
      (err: Error) =>
        err instanceof InputError && /dispatch gone has no stored plan to retry/.test(err.message),
    );
    assert.equal(saved.length, 0);
  });
});
