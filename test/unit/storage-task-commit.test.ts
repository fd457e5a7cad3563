import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MongoServerError, type Collection } from 'mongodb';
import { ErrorType } from '../../src/errors';
import { DUPLICATE_KEY } from '../../src/storage/mongo-errors';
import type { ObjectStore } from '../../src/storage/object-store';
import {
  createTaskCommits,
  folderOf,
  placement,
  recordFile,
  runLocation,
  uploadMarker,
  taskRecord,
  type RecordInput,
} from '../../src/storage/task-commit';
import type { TaskLocks } from '../../src/storage/task-locks';
import { METADATA_FILE, type EarlierRunResult } from '../../src/task-record';
import type { StoredRecord } from '../../src/types';
import { runResultOf, storedTask } from '../fixtures/tasks';

const task = storedTask;

/** The files every run of these tests wrote. */
const files = ['x.txt'];

const run = runResultOf(files);

/**
 * Commits over records, objects and locks held in Maps; `writeError` is what the next insert or
 * replace throws. Every operation is logged in `calls`, in order.
 */
function fakeStore(recorded: Record<string, string> = {}, held: Record<string, string> = {}) {
  const records = new Map<string, { _id: string; dispatch_id: string; location: string }>(
    Object.entries(recorded).map(([_id, dispatch_id]) => [
      _id,
      { _id, dispatch_id, location: `s3://out/${_id}` },
    ]),
  );
  const locks = new Map(Object.entries(held));
  const stored = new Map<string, string>();
  const calls: string[] = [];
  const state = { writeError: undefined as Error | undefined };
  const collection = {
    async insertOne(record: StoredRecord) {
      calls.push(`insert ${record._id}`);
      if (state.writeError) throw state.writeError;
      if (records.has(record._id))
        throw new MongoServerError({ message: 'duplicate key', code: DUPLICATE_KEY });
      records.set(record._id, record as never);
    },
    async replaceOne(filter: { _id: string; location: string }, record: StoredRecord) {
      calls.push(`replace ${record._id}`);
      if (state.writeError) throw state.writeError;
      const current = records.get(filter._id);
      if (current?.location !== filter.location) return { matchedCount: 0 };
      records.set(record._id, record as never);
      return { matchedCount: 1 };
    },
    async findOne(filter: { _id: string }) {
      calls.push(`find ${filter._id}`);
      return records.get(filter._id) ?? null;
    },
  } as unknown as Collection<StoredRecord>;
  const objects: ObjectStore = {
    async readText(bucket, key) {
      return stored.get(`${bucket}/${key}`);
    },
    async list(bucket, prefix) {
      return [...stored.keys()]
        .filter((key) => key.startsWith(`${bucket}/${prefix}`))
        .map((key) => ({ key: key.slice(bucket.length + 1), size: 1 }));
    },
    async remove(bucket, keys) {
      // The marker of an upload goes alone, and by name.
      if (keys.length === 1 && keys[0]!.endsWith('.uploading')) calls.push(`unmark ${keys[0]}`);
      else if (keys.length) calls.push(`remove ${keys.length}`);
      for (const key of keys) stored.delete(`${bucket}/${key}`);
    },
  };
  /** What an upload leaves: the run's files and, last, the copy of its record. */
  const upload = (input: RecordInput, location: string, listed = files) => {
    const { bucket, prefix } = folderOf(location);
    const marker = uploadMarker(location);
    stored.set(`${marker.bucket}/${marker.key}`, '');
    for (const file of listed) stored.set(`${bucket}/${prefix}${file}`, 'data');
    stored.set(`${bucket}/${prefix}${METADATA_FILE}`, recordFile(input, listed, location));
  };
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
  return {
    commits: createTaskCommits({ records: collection, objects, locks: taskLocks }),
    calls,
    locks,
    state,
    records,
    stored,
    upload,
  };
}

describe('storage/task-commit', () => {
  test('taskRecord is the record of one dispatch’s run, and recordFile holds the same document', () => {
    const record = taskRecord({ task: task('a'), run, dispatchId: 'd1' }, files);
    assert.equal(record._id, 'a');
    assert.equal(record.dispatch_id, 'd1');
    assert.equal(record.location, 's3://out/a');
    assert.deepEqual(record.files, files);
    assert.equal(
      recordFile({ task: task('a'), run, dispatchId: 'd1' }, files),
      JSON.stringify(record) + '\n',
    );
    assert.equal(
      taskRecord({ task: task('a'), run, dispatchId: 'd1' }, files, 's3://out/a/run-1').location,
      's3://out/a/run-1',
    );
  });

  test('placement: a first run writes to the task’s folder, a rerun beside the record, an earlier attempt finds its own', () => {
    const input = { task: task('a'), run, dispatchId: 'd2' };
    const beside = runLocation(input);
    assert.match(beside, /^s3:\/\/out\/a\/run-[0-9a-f]{16}$/);
    assert.equal(runLocation({ ...input, run: { ...run, started_at: 'later' } }) === beside, false);
    assert.deepEqual(placement(input, null), { location: 's3://out/a', committed: false });
    const earlier = { _id: 'a', dispatch_id: 'd1', location: 's3://out/a' };
    assert.deepEqual(placement(input, earlier), { location: beside, committed: false });
    assert.deepEqual(placement(input, { ...earlier, dispatch_id: 'd2', location: beside }), {
      location: beside,
      committed: true,
    });
    assert.deepEqual(placement(input, { ...earlier, dispatch_id: 'd2' }), {
      location: 's3://out/a',
      committed: true,
    });
  });

  test('commit inserts a first record once its objects are whole, and gives back the lock', async () => {
    const { commits, calls, locks, upload, stored } = fakeStore({}, { b: 'job-1' });
    const input = { task: task('b'), run, dispatchId: 'd1', owner: 'job-1', force: false };
    upload(input, 's3://out/b');
    assert.equal(stored.has('out/b.uploading'), true);
    // Beside the folder, so that no result file can be it.
    assert.deepEqual(uploadMarker('s3://out/p/b/'), { bucket: 'out', key: 'p/b.uploading' });
    assert.equal(await commits.commit(input), 'written');
    // The upload's marker goes once the record is written, before the lock.
    assert.deepEqual(calls, ['find b', 'insert b', 'unmark b.uploading', 'release b job-1']);
    assert.equal(stored.has('out/b.uploading'), false);
    assert.equal(locks.size, 0);
    // Its retry, the write having landed, finds it.
    assert.equal(await commits.commit(input), 'existed');
  });

  test('a commit handed what its upload just wrote reads neither the record nor the copy again', async () => {
    const { commits, calls, records } = fakeStore({}, { b: 'job-1' });
    const input = { task: task('b'), run, dispatchId: 'd1', owner: 'job-1', force: false };
    const written = { current: null, record: taskRecord(input, files, 's3://out/b') };
    assert.equal(await commits.commit(input, written), 'written');
    assert.deepEqual(calls, ['insert b', 'unmark b.uploading', 'release b job-1']);
    assert.deepEqual((records.get('b') as StoredRecord | undefined)?.files, files);
    // A record another run wrote after the upload read none: the insert meets it, and it stays.
    const other = fakeStore({ c: 'd0' }, { c: 'job-1' });
    const late = { task: task('c'), run, dispatchId: 'd1', owner: 'job-1', force: false };
    const stale = { current: null, record: taskRecord(late, files, 's3://out/c') };
    assert.equal(await other.commits.commit(late, stale), 'existed');
    assert.equal(other.records.get('c')?.dispatch_id, 'd0');
    assert.deepEqual(other.calls, ['insert c', 'unmark c.uploading', 'release c job-1']);
  });

  test('commit takes the files from the uploaded copy, and only when they are those the run listed', async () => {
    const { commits, records, stored, upload } = fakeStore({}, { b: 'job-1' });
    const input = { task: task('b'), run, dispatchId: 'd1', owner: 'job-1', force: false };
    // A copy naming a file the run did not list (written by someone else, or another run).
    upload(input, 's3://out/b', ['x.txt', 'planted.txt']);
    await assert.rejects(
      commits.commit(input),
      (err) => err instanceof ApplicationFailure && err.type === ErrorType.ResultsLost,
    );
    assert.equal(records.size, 0);
    stored.clear();
    upload(input, 's3://out/b');
    assert.equal(await commits.commit(input), 'written');
    assert.deepEqual((records.get('b') as StoredRecord | undefined)?.files, files);
  });

  test('a run result of the earlier shape, with its list, commits against the copy an earlier worker uploaded', async () => {
    // The copy as the previous version's upload wrote it, for this task and run.
    const copy = readFileSync(join(__dirname, '..', 'fixtures', 'earlier-record-copy.ndjson'), 'utf8');
    const hash = 'e'.repeat(64);
    const earlier: EarlierRunResult = {
      workerQueue: 'q',
      workDir: '/tmp/w',
      outputs: { units: 3 },
      files: ['store.zarr/.zattrs', 'store.zarr/0.0', 'x.txt'],
      code: { commit: 'abc1234' },
      worker_host: 'h',
      started_at: '2026-12-01T10:00:00.000Z',
      finished_at: '2026-12-01T10:00:01.000Z',
      resources: { wall_time_s: 1 },
      worker_user: 'w',
    };
    const input = { task: task(hash), run: earlier, dispatchId: 'd0', owner: 'job-1', force: false };
    const { commits, records, stored } = fakeStore({}, { [hash]: 'job-1' });
    stored.set(`out/${hash}/${METADATA_FILE}`, copy);
    // Its list is checked as the current code checks one: against the copy's, name for name.
    const other = { ...input, run: { ...earlier, files: ['x.txt'] } };
    await assert.rejects(
      commits.commit(other),
      (err) => err instanceof ApplicationFailure && err.type === ErrorType.ResultsLost,
    );
    assert.equal(await commits.commit(input), 'written');
    assert.equal(JSON.stringify(records.get(hash)) + '\n', copy);
  });

  test('a rerun replaces the record in one write, and only then removes the objects it named', async () => {
    const { commits, calls, records, stored, upload } = fakeStore({ a: 'd1', c: 'd1' });
    stored.set('out/a/x.txt', 'old');
    stored.set('out/a/metadata.nd.json', 'old record');
    for (const [hash, extra] of [
      ['a', { force: true }],
      ['c', { task: task('c', { replace_record: true }) }],
    ] as const) {
      const input = { task: task(hash), run, dispatchId: 'd2', owner: 'job-1', force: false, ...extra };
      upload(input, runLocation(input));
      assert.equal(await commits.commit(input), 'written');
      assert.equal(records.get(hash)?.location, runLocation(input));
      assert.equal(records.get(hash)?.dispatch_id, 'd2');
    }
    const prefix = folderOf(runLocation({ task: task('a'), run, dispatchId: 'd2' })).prefix;
    // The earlier objects and the run's marker beside its folder go with what the record replaced.
    assert.deepEqual(calls.slice(0, 5), [
      'find a',
      'replace a',
      'remove 3',
      `unmark ${prefix.slice(0, -1)}.uploading`,
      'release a job-1',
    ]);
    assert.deepEqual([...stored.keys()].filter((key) => key.startsWith('out/a/')).sort(), [
      `out/${prefix}metadata.nd.json`,
      `out/${prefix}x.txt`,
    ]);
  });

  test('a rerun whose objects are not whole, or whose record is refused, leaves the earlier record and objects', async () => {
    const { commits, records, stored, upload, state } = fakeStore({ a: 'd1' }, { a: 'job-1' });
    stored.set('out/a/x.txt', 'old');
    const input = { task: task('a'), run, dispatchId: 'd2', owner: 'job-1', force: true };
    await assert.rejects(
      commits.commit(input),
      (err) => err instanceof ApplicationFailure && err.type === ErrorType.ResultsLost,
    );
    upload(input, runLocation(input));
    const refused = { ...input, run: { ...run, outputs: { 'a.b': 1 } } };
    upload(refused, runLocation(refused));
    await assert.rejects(commits.commit(refused), (err) => {
      assert.ok(err instanceof ApplicationFailure);
      assert.equal(err.type, ErrorType.InvalidOutputs);
      assert.equal(err.nonRetryable, true);
      assert.match(err.message, /"a\.b" at processing\.data_processes\[0\]\.output_parameters/);
      return true;
    });
    upload(input, runLocation(input));
    state.writeError = new MongoServerError({ message: 'document too large', code: 10334 });
    await assert.rejects(
      commits.commit(input),
      (err) => err instanceof ApplicationFailure && err.type === ErrorType.InvalidOutputs && err.nonRetryable,
    );
    state.writeError = new Error('connection reset');
    await assert.rejects(commits.commit(input), /connection reset/);
    assert.equal(records.get('a')?.dispatch_id, 'd1');
    assert.equal(stored.get('out/a/x.txt'), 'old');
  });

  test('a run that does not replace keeps a record that came first, and removes its own copy beside it', async () => {
    const { commits, records, stored, upload } = fakeStore({ a: 'd1' });
    stored.set('out/a/x.txt', 'old');
    const input = { task: task('a'), run, dispatchId: 'd2', owner: 'job-1', force: false };
    upload(input, runLocation(input));
    assert.equal(await commits.commit(input), 'existed');
    assert.equal(records.get('a')?.dispatch_id, 'd1');
    assert.deepEqual([...stored.keys()], ['out/a/x.txt']);
  });

  test('beforeRun lets a first attempt run without a look', async () => {
    const { commits, calls } = fakeStore({ a: 'd1' });
    assert.equal(
      await commits.beforeRun({ task: task('a'), dispatchId: 'd1', owner: 'job-1', attempt: 1 }),
      'run',
    );
    assert.deepEqual(calls, []);
  });

  test('beforeRun of a later attempt that finds its dispatch’s record runs nothing and gives back the lock', async () => {
    const { commits, calls, locks } = fakeStore({ a: 'd1' }, { a: 'job-1' });
    const later = { task: task('a'), dispatchId: 'd1', owner: 'job-1', attempt: 2 };
    assert.equal(await commits.beforeRun(later), 'committed');
    // The marker of that attempt's upload may be left too.
    assert.deepEqual(calls, ['find a', 'unmark a.uploading', 'release a job-1']);
    assert.equal(locks.size, 0);
    // Given back already: the release is the owner's only, and a no-op now.
    assert.equal(await commits.beforeRun(later), 'committed');
  });

  test('beforeRun of a later attempt that finds its dispatch’s record beside the task’s folder removes what that record replaced', async () => {
    const { commits, records, stored, upload } = fakeStore({ a: 'd1' }, { a: 'job-2' });
    upload({ task: task('a'), run, dispatchId: 'd1' }, 's3://out/a');
    stored.delete('out/a.uploading'); // Its commit took it away.
    const rerun = { task: task('a'), run, dispatchId: 'd2' };
    upload(rerun, runLocation(rerun));
    // The worker was lost right after the switch, before it removed the earlier objects.
    records.set('a', { ...taskRecord(rerun, files, runLocation(rerun)), dispatch_id: 'd2' } as never);
    const later = { task: task('a'), dispatchId: 'd2', owner: 'job-2', attempt: 2 };
    assert.equal(await commits.beforeRun(later), 'committed');
    const { prefix } = folderOf(runLocation(rerun));
    assert.deepEqual(
      [...stored.keys()].sort(),
      [`out/${prefix}${METADATA_FILE}`, `out/${prefix}x.txt`].sort(),
    );
  });

  test('beforeRun of a later attempt without its dispatch’s record takes the lock again, or fails while another holds it', async () => {
    const { commits, calls, locks } = fakeStore({ a: 'd0' }, { c: 'job-9' });
    assert.equal(
      await commits.beforeRun({ task: task('a'), dispatchId: 'd1', owner: 'job-1', attempt: 3 }),
      'run',
    );
    assert.equal(
      await commits.beforeRun({ task: task('b'), dispatchId: 'd1', owner: 'job-1', attempt: 2 }),
      'run',
    );
    assert.deepEqual(calls, ['find a', 'claim a job-1', 'find b', 'claim b job-1']);
    assert.equal(locks.get('a'), 'job-1');
    await assert.rejects(
      commits.beforeRun({ task: task('c'), dispatchId: 'd1', owner: 'job-1', attempt: 2 }),
      (err) =>
        !(err instanceof ApplicationFailure) && /another dispatch took this task's lock/.test(String(err)),
    );
  });
});
