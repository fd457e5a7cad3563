import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MongoBulkWriteError, MongoServerError, type Collection } from 'mongodb';
import { DUPLICATE_KEY } from '../../src/storage/mongo-errors';
import { createTaskLocks, type TaskLock } from '../../src/storage/task-locks';

/** The lock collection's operations the locks use, held in a Map, with the server's duplicate-key errors. */
function fakeLocks(initial: TaskLock[] = []) {
  const docs = new Map(initial.map((lock) => [lock._id, lock]));
  const duplicate = () => new MongoServerError({ message: 'duplicate key', code: DUPLICATE_KEY });
  const matches = (lock: TaskLock, filter: { _id: string | { $in: string[] }; owner?: string }) =>
    (typeof filter._id === 'string' ? lock._id === filter._id : filter._id.$in.includes(lock._id)) &&
    (filter.owner === undefined || lock.owner === filter.owner);
  const collection = {
    async insertOne(lock: TaskLock) {
      if (docs.has(lock._id)) throw duplicate();
      docs.set(lock._id, lock);
    },
    async insertMany(locks: TaskLock[]) {
      const writeErrors: Array<{ index: number; code: number; errmsg: string }> = [];
      locks.forEach((lock, index) => {
        if (docs.has(lock._id)) writeErrors.push({ index, code: DUPLICATE_KEY, errmsg: 'duplicate key' });
        else docs.set(lock._id, lock);
      });
      if (writeErrors.length) {
        throw new MongoBulkWriteError(
          { message: 'duplicate key', code: DUPLICATE_KEY, writeErrors: writeErrors as never },
          {} as never,
        );
      }
    },
    async findOne(filter: { _id: string }) {
      return docs.get(filter._id) ?? null;
    },
    async replaceOne(filter: { _id: string; owner: string }, replacement: Omit<TaskLock, '_id'>) {
      const lock = docs.get(filter._id);
      if (!lock || lock.owner !== filter.owner) return { modifiedCount: 0 };
      docs.set(filter._id, { _id: filter._id, ...replacement });
      return { modifiedCount: 1 };
    },
    async deleteOne(filter: { _id: string; owner: string }) {
      for (const lock of docs.values()) if (matches(lock, filter)) return void docs.delete(lock._id);
    },
    async deleteMany(filter: { _id: { $in: string[] }; owner: string }) {
      for (const lock of [...docs.values()]) if (matches(lock, filter)) docs.delete(lock._id);
    },
  };
  return { locks: collection as unknown as Collection<TaskLock>, docs };
}

const lock = (hash: string, owner: string): TaskLock => ({ _id: hash, owner, since: new Date(0) });

describe('storage/task-locks', () => {
  test('claimAll takes free locks and keeps those the owner already holds', async () => {
    const { locks, docs } = fakeLocks([lock('b', 'job-1')]);
    const taskLocks = createTaskLocks({ locks, isRunning: async () => true });
    assert.deepEqual([...(await taskLocks.claimAll(['a', 'b', 'c'], 'job-1'))].sort(), ['a', 'b', 'c']);
    assert.deepEqual([...docs.keys()].sort(), ['a', 'b', 'c']);
  });

  test('claimAll leaves locks of running owners and takes over those of closed ones', async () => {
    const { locks, docs } = fakeLocks([lock('a', 'running'), lock('b', 'closed')]);
    const asked: string[] = [];
    const taskLocks = createTaskLocks({
      locks,
      isRunning: async (owner) => (asked.push(owner), owner === 'running'),
    });
    assert.deepEqual([...(await taskLocks.claimAll(['a', 'b', 'c'], 'job-2'))].sort(), ['b', 'c']);
    assert.equal(docs.get('a')?.owner, 'running');
    assert.equal(docs.get('b')?.owner, 'job-2');
    assert.deepEqual(asked.sort(), ['closed', 'running']);
  });

  test('claimAll of nothing writes nothing', async () => {
    const { locks, docs } = fakeLocks();
    assert.equal((await createTaskLocks({ locks, isRunning: async () => true }).claimAll([], 'job')).size, 0);
    assert.equal(docs.size, 0);
  });

  test('release and releaseAll drop only the locks the owner holds', async () => {
    const { locks, docs } = fakeLocks([
      lock('a', 'job'),
      lock('b', 'job'),
      lock('c', 'other'),
      lock('d', 'job'),
    ]);
    const taskLocks = createTaskLocks({ locks, isRunning: async () => true });
    await taskLocks.release('a', 'job');
    await taskLocks.release('c', 'job');
    await taskLocks.releaseAll(['b', 'c'], 'job');
    assert.deepEqual([...docs.keys()].sort(), ['c', 'd']);
  });
});
