import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import type { Collection } from 'mongodb';
import { createRecordActivities } from '../../src/activities/records';
import { inputDigest } from '../../src/input-digest';
import { findByIdsIn } from '../../src/storage/id-lookups';
import type { ObjectStore } from '../../src/storage/object-store';
import type { PlanStore } from '../../src/storage/plan-store';
import { recordFile } from '../../src/storage/task-commit';
import type { TaskLocks } from '../../src/storage/task-locks';

import type { InputFingerprint, StoredRecord } from '../../src/types';
import { makeTask, runResultOf, storedTask } from '../fixtures/tasks';

const fingerprint = (etag: string): InputFingerprint[] => [{ url: 's3://d/a/x.csv', size: 1, etag }];

const task = storedTask;

const run = runResultOf([]);

/** A task whose hash and location are those its fields give. */
const identified = makeTask({ analysis_name: 'Noop', s3_output_bucket: 'out' });

/** Record activities over in-memory records (with these input digests) and locks. */
function activities(recorded: Record<string, string | undefined>) {
  const writes: string[] = [];
  const records = {
    find: () => ({
      toArray: async () =>
        Object.entries(recorded).map(([_id, input_digest]) => ({
          _id,
          code: { commit: 'abc1234' },
          ...(input_digest ? { input_digest } : {}),
        })),
    }),
    findOne: async () => null,
    async insertOne(record: StoredRecord) {
      writes.push(`insert ${record._id}`);
    },
    async replaceOne(_filter: unknown, record: StoredRecord, options: { upsert?: boolean }) {
      writes.push(`replace ${record._id}${options.upsert ? ' (upsert)' : ''}`);
    },
  } as unknown as Collection<StoredRecord>;
  const taskLocks: TaskLocks = {
    claim: async () => true,
    async claimAll(hashes, owner) {
      writes.push(`claim ${hashes.join(',')} ${owner}`);
      return new Set(hashes);
    },
    async release(hash, owner) {
      writes.push(`release ${hash} ${owner}`);
    },
    async releaseAll(hashes, owner) {
      writes.push(`release ${hashes.join(',')} ${owner}`);
    },
  };
  const objects: ObjectStore = {
    // The run's objects are whole: its copy of the record is there.
    readText: async () => recordFile({ task: identified, run, dispatchId: 'd1' }, []),
    list: async () => [],
    remove: async () => {},
  };
  const made = createRecordActivities({
    records,
    taskLocks,
    codeCommit: async () => 'abc1234',
    plans: {} as PlanStore,
    findByIds: findByIdsIn,
    objects,
  });
  return { ...made, writes };
}

describe('activities/records', () => {
  test('claimTasks runs a task planned to replace its record only while the record is of other inputs', async () => {
    const { claimTasks, writes } = activities({
      stale: inputDigest(fingerprint('old')),
      replaced: inputDigest(fingerprint('new')),
      done: inputDigest(fingerprint('old')),
      older: undefined,
    });
    const statuses = await claimTasks({
      tasks: [
        task('stale', { input_fingerprints: fingerprint('new'), replace_record: true }),
        task('replaced', { input_fingerprints: fingerprint('new'), replace_record: true }),
        task('done', { input_fingerprints: fingerprint('new') }),
        task('older', { input_fingerprints: fingerprint('new'), replace_record: true }),
        task('fresh', { input_fingerprints: fingerprint('new') }),
      ],
      owner: 'job-1',
      force: false,
      dryRun: false,
    });
    assert.deepEqual(statuses, ['run', 'done', 'done', 'done', 'run']);
    // The locks first, for every task, then the read: a record is written before its lock is
    // given back, so what is read then is the last word. The done tasks' locks go back at once.
    assert.deepEqual(writes, [
      'claim stale,replaced,done,older,fresh job-1',
      'release replaced,done,older job-1',
    ]);
  });

  test('commitTask writes the record through the task commits, giving back the lock it was handed', async () => {
    const { commitTask, writes } = activities({});
    const outcome = await commitTask({
      task: identified,
      run,
      dispatchId: 'd1',
      owner: 'job-1',
      force: false,
    });
    assert.equal(outcome, 'written');
    assert.deepEqual(writes, [`insert ${identified.hash}`, `release ${identified.hash} job-1`]);
  });

  test('commitTask refuses a task whose hash or location is not its own, writing nothing', async () => {
    const { commitTask, writes } = activities({});
    for (const wrong of [
      { ...identified, hash: 'b'.repeat(64) },
      { ...identified, location: 's3://out' },
      { ...identified, location: `s3://elsewhere/${identified.hash}` },
    ]) {
      await assert.rejects(
        commitTask({ task: wrong, run, dispatchId: 'd1', owner: 'job-1', force: true }),
        (err) => err instanceof ApplicationFailure && err.type === 'TaskIdentityMismatch' && err.nonRetryable,
      );
    }
    assert.deepEqual(writes, []);
  });
});
