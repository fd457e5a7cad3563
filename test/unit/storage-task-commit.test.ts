import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MongoServerError, type Collection } from 'mongodb';
import { ErrorType } from '../../src/errors';
import { DUPLICATE_KEY } from '../../src/storage/mongo-errors';
import { createTaskCommits, recordFile, taskRecord } from '../../src/storage/task-commit';
import type { TaskLocks } from '../../src/storage/task-locks';
import type { RunResult } from '../../src/task-record';
import type { StoredRecord, Task } from '../../src/types';

const task = (hash: string, extra: Partial<Task> = {}): Task =>
  ({
    hash,
    analysis: { analysis_name: 'Noop', analysis_version: '1', s3_output_bucket: 'out' },
    parameters: {},
    input: { s3_location: ['s3://d/a'], asset_name: ['a'], docdb_record_id: ['a'], file_location: [] },
    libraries: {},
    location: `s3://out/${hash}`,
    ...extra,
  }) as Task;

const run: RunResult = {
  workerQueue: 'q',
  workDir: '/tmp/w',
  outputs: {},
  files: [],
  code: { commit: 'abc1234' },
  worker_host: 'h',
  started_at: '2026-12-01T10:00:00.000Z',
  finished_at: '2026-12-01T10:00:01.000Z',
};

/**
 * Commits over records and locks held in Maps; `insertError` is what the next insert throws. Every
 * operation is logged in `calls`, in order.
 */
function fakeStore(recorded: Record<string, string> = {}, held: Record<string, string> = {}) {
  const records = new Map(Object.entries(recorded).map(([_id, dispatch_id]) => [_id, { _id, dispatch_id }]));
  const locks = new Map(Object.entries(held));
  const calls: string[] = [];
  const state = { insertError: undefined as Error | undefined };
  const collection = {
    async insertOne(record: StoredRecord) {
      calls.push(`insert ${record._id}`);
      if (state.insertError) throw state.insertError;
      records.set(record._id, record);
    },
    async replaceOne(_filter: unknown, record: StoredRecord, options: { upsert?: boolean }) {
      calls.push(`replace ${record._id}${options.upsert ? ' (upsert)' : ''}`);
      records.set(record._id, record);
    },
    async findOne(filter: { _id: string }) {
      calls.push(`find ${filter._id}`);
      return records.get(filter._id) ?? null;
    },
  } as unknown as Collection<StoredRecord>;
  const taskLocks: Pick<TaskLocks, 'claim' | 'release'> = {
    async claim(hash, owner) {
      calls.push(`claim ${hash} ${owner}`);
      const holder = locks.get(hash);
      if (holder && holder !== owner) return false;
      locks.set(hash, owner);
      return true;
    },
    async release(hash, owner) {
      calls.push(`release ${hash} ${owner}`);
      if (locks.get(hash) === owner) locks.delete(hash);
    },
  };
  return { commits: createTaskCommits({ records: collection, locks: taskLocks }), calls, locks, state };
}

describe('storage/task-commit', () => {
  test('taskRecord is the record of one dispatch’s run, and recordFile holds the same document', () => {
    const record = taskRecord({ task: task('a'), run, dispatchId: 'd1' });
    assert.equal(record._id, 'a');
    assert.equal(record.dispatch_id, 'd1');
    assert.equal(recordFile({ task: task('a'), run, dispatchId: 'd1' }), JSON.stringify(record) + '\n');
  });

  test('commit inserts a record, or replaces it when forced or planned to, and gives back the lock', async () => {
    const { commits, calls, locks } = fakeStore({}, { a: 'job-1', b: 'job-1', c: 'job-1' });
    const common = { run, dispatchId: 'd1', owner: 'job-1', force: false };
    assert.equal(await commits.commit({ ...common, task: task('a', { replace_record: true }) }), 'written');
    assert.equal(await commits.commit({ ...common, task: task('b') }), 'written');
    assert.equal(await commits.commit({ ...common, force: true, task: task('c') }), 'written');
    assert.deepEqual(calls, [
      'replace a (upsert)',
      'release a job-1',
      'insert b',
      'release b job-1',
      'replace c (upsert)',
      'release c job-1',
    ]);
    assert.equal(locks.size, 0);
  });

  test('commit of a record already there counts it as existing; one the database refuses is not retried', async () => {
    const { commits, calls, state } = fakeStore();
    const input = { task: task('a'), run, dispatchId: 'd1', owner: 'job-1', force: false };
    state.insertError = new MongoServerError({ message: 'duplicate key', code: DUPLICATE_KEY });
    assert.equal(await commits.commit(input), 'existed');
    assert.deepEqual(calls, ['insert a', 'release a job-1']);

    state.insertError = new MongoServerError({ message: 'document too large', code: 10334 });
    await assert.rejects(
      commits.commit(input),
      (err) => err instanceof ApplicationFailure && err.type === ErrorType.InvalidOutputs && err.nonRetryable,
    );
    state.insertError = new Error('connection reset');
    await assert.rejects(commits.commit(input), /connection reset/);
    assert.deepEqual(calls.slice(2), ['insert a', 'insert a'], 'a failed write keeps the lock');
  });

  test('beforeRun lets a first attempt run without a look', async () => {
    const { commits, calls } = fakeStore({ a: 'd1' });
    assert.equal(await commits.beforeRun({ hash: 'a', dispatchId: 'd1', owner: 'job-1', attempt: 1 }), 'run');
    assert.deepEqual(calls, []);
  });

  test('beforeRun of a later attempt that finds its dispatch’s record runs nothing and gives back the lock', async () => {
    const { commits, calls, locks } = fakeStore({ a: 'd1' }, { a: 'job-1' });
    const later = { hash: 'a', dispatchId: 'd1', owner: 'job-1', attempt: 2 };
    assert.equal(await commits.beforeRun(later), 'committed');
    assert.deepEqual(calls, ['find a', 'release a job-1']);
    assert.equal(locks.size, 0);
    // Given back already: the release is the owner's only, and a no-op now.
    assert.equal(await commits.beforeRun(later), 'committed');
  });

  test('beforeRun of a later attempt without its dispatch’s record takes the lock again, or fails while another holds it', async () => {
    const { commits, calls, locks } = fakeStore({ a: 'd0' }, { c: 'job-9' });
    assert.equal(await commits.beforeRun({ hash: 'a', dispatchId: 'd1', owner: 'job-1', attempt: 3 }), 'run');
    assert.equal(await commits.beforeRun({ hash: 'b', dispatchId: 'd1', owner: 'job-1', attempt: 2 }), 'run');
    assert.deepEqual(calls, ['find a', 'claim a job-1', 'find b', 'claim b job-1']);
    assert.equal(locks.get('a'), 'job-1');
    await assert.rejects(
      commits.beforeRun({ hash: 'c', dispatchId: 'd1', owner: 'job-1', attempt: 2 }),
      (err) =>
        !(err instanceof ApplicationFailure) && /another dispatch took this task's lock/.test(String(err)),
    );
  });
});
