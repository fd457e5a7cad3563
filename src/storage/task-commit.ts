import { createHash } from 'node:crypto';
import type { Collection } from 'mongodb';
import { buildRecord } from '../aind/metadata';
import { ErrorType, nonRetryable } from '../errors';
import {
  checkedFileList,
  METADATA_FILE,
  resultFilesOf,
  runResultFiles,
  type AnyRunResult,
} from '../task-record';
import type { AnalysisRecord, StoredRecord, Task } from '../types';
import { isDuplicateKey, isRejectedDocument } from './mongo-errors';
import type { ObjectStore } from './object-store';
import { unstorableKey } from './record-keys';
import { folderPrefix, parseS3Url } from './s3-url';
import type { TaskLocks } from './task-locks';
import { pauseForTest } from './test-pause';

/**
 * One dispatch's run of one task: what its record is made of, but for the list of its files,
 * which no step is handed (the upload reads it from the run's folder, the commit from the copy of
 * the record the upload left).
 */
export interface RecordInput {
  task: Task;
  run: AnyRunResult;
  dispatchId: string;
}

/** What writing a task's record takes: its job holds the task's lock as `owner` until then. */
export interface CommitInput extends RecordInput {
  owner: string;
  force: boolean;
}

export type Committed = 'written' | 'existed';

/** What the commit reads of a task's current record. */
export type CurrentRecord = Pick<StoredRecord, '_id' | 'location' | 'dispatch_id'>;

/**
 * What an upload just did, handed to the commit in the same step: the task's record as the upload
 * read it, and the record whose copy it put last. The commit then neither reads the record again
 * nor reads the copy back. A record written meanwhile by another run still stops the commit: its
 * insert meets the key, its replace matches nothing.
 */
export interface Written {
  current: CurrentRecord | null;
  record: AnalysisRecord;
}

/**
 * Where a run's objects go, and so the `location` its record names. A first run writes to the
 * task's own folder, `s3://<bucket>/<hash>/`. A run over a record that is there (a forced rerun, a
 * changed input) writes beside it, to a folder of its own inside the task's, so that until its
 * record replaces the earlier one in a single write, the earlier record and every object it names
 * stay as they were. `committed` says that the record there is this run's own: an earlier attempt
 * wrote it. Upload and commit read the record and decide with this one rule, so they agree.
 */
export function placement(
  input: RecordInput,
  current: CurrentRecord | null | undefined,
): { location: string; committed: boolean } {
  if (!current) return { location: input.task.location, committed: false };
  const beside = runLocation(input);
  const ours =
    current.dispatch_id === input.dispatchId &&
    [beside, input.task.location].some((location) => sameFolder(location, current.location));
  return ours ? { location: current.location, committed: true } : { location: beside, committed: false };
}

/**
 * The folder of one run inside its task's, named after what tells runs apart (dispatch, start,
 * worker and local folder), so that every attempt of its upload and commit finds the same one.
 */
export function runLocation({ task, run, dispatchId }: RecordInput): string {
  const id = createHash('sha256')
    .update([dispatchId, run.started_at, run.worker_host, run.workDir].join('\0'))
    .digest('hex')
    .slice(0, 16);
  return `${folderPrefix(task.location)}run-${id}`;
}

/** Whether `location` is the task's folder `folder` or a run's folder in it (runLocation). */
function insideFolder(location: string, folder: string): boolean {
  const [inner, outer] = [parseS3Url(location), parseS3Url(folder)];
  if (!inner?.key || !outer?.key || inner.bucket !== outer.bucket) return false;
  const [key, top] = [folderPrefix(inner.key), folderPrefix(outer.key)];
  return key.startsWith(top) && /^(run-[0-9a-f]{16}\/)?$/.test(key.slice(top.length));
}

/** Records of earlier formats may lack a `location`: such a one is no run's folder. */
function sameFolder(a: string | undefined, b: string | undefined): boolean {
  return typeof a === 'string' && typeof b === 'string' && folderPrefix(a) === folderPrefix(b);
}

/**
 * The record of a task's run with its result files, the one the database keeps and the one
 * uploaded beside the results (recordFile): both come from here, so a retried upload can tell
 * its own copy by comparing it. `location` is where the run's objects are (placement); the task's
 * own folder by default.
 */
export function taskRecord(
  { task, run, dispatchId }: RecordInput,
  files: string[],
  location = task.location,
): AnalysisRecord {
  return { ...buildRecord(task, run, dispatchId, files), location };
}

/** The record as the file uploaded beside the results holds it: one JSON line. */
export function recordFile(input: RecordInput, files: string[], location?: string): string {
  return JSON.stringify(taskRecord(input, files, location)) + '\n';
}

/**
 * This run's record as the copy uploaded last at `location` holds it, when that copy is this
 * run's and its upload finished; undefined otherwise. The files are taken from the copy, never
 * from a step's input, and must be the ones the run listed (their count and sha256, which the
 * run's result carries); every other field must be what the task and the run give.
 */
export async function uploadedRecord(
  objects: Pick<ObjectStore, 'readText'>,
  input: RecordInput,
  location: string,
): Promise<AnalysisRecord | undefined> {
  const { bucket, prefix } = folderOf(location);
  const text = await objects.readText(bucket, prefix + METADATA_FILE);
  if (text === undefined) return undefined;
  const files = filesNamedBy(text);
  if (!files) return undefined;
  const listed = resultFilesOf(files);
  const expected = runResultFiles(input.run);
  if (listed.count !== expected.count || listed.sha256 !== expected.sha256) return undefined;
  const record = taskRecord(input, files, location);
  return JSON.stringify(record) + '\n' === text ? record : undefined;
}

/** The `files` of a copy of a record, when it is one and they are a listing's. */
function filesNamedBy(text: string): string[] | undefined {
  try {
    const copy: unknown = JSON.parse(text);
    return typeof copy === 'object' && copy !== null && 'files' in copy
      ? checkedFileList(copy.files)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Refuses, before anything is uploaded or written, a record the database would refuse: a key
 * with a dot or starting with `$` (an analysis's output names). Not retried: the same run would
 * give the same record.
 */
export function checkStorable(record: AnalysisRecord): void {
  const bad = unstorableKey(record);
  if (bad)
    throw nonRetryable(
      ErrorType.InvalidOutputs,
      `the record cannot be stored: the key ${JSON.stringify(bad.key)} at ${bad.path} holds a "." or starts with "$"; rename it in the analysis's outputs`,
    );
}

/**
 * The object that says an upload may have begun in a run's folder and its record is not written
 * yet: put before the first result, removed once the record is. It sits beside the folder (its
 * name with `.uploading`), never in it, so no result file can be it. Only an upload that finds it
 * lists the folder to take away what an interrupted attempt left; the others write at once,
 * which matters where a listing costs what the whole bucket does (a filesystem-backed S3).
 */
export function uploadMarker(location: string): { bucket: string; key: string } {
  const { bucket, prefix } = folderOf(location);
  return { bucket, key: `${prefix.slice(0, -1)}.uploading` };
}

/** Bucket and key prefix of a folder URL. */
export function folderOf(location: string): { bucket: string; prefix: string } {
  const address = parseS3Url(location);
  if (!address?.key) throw new Error(`${location} is not an s3:// folder`);
  return { bucket: address.bucket, prefix: folderPrefix(address.key) };
}

export interface TaskCommits {
  /**
   * The commit point of a task: its record, then its lock given back. Written once; `force`, or a
   * task planned to replace its record (its inputs changed), replaces it, in one write, and only
   * then removes the objects of the record it replaced. The record is written only when the copy
   * uploaded last by its run is where the record says, so a record never names missing objects.
   */
  commit(input: CommitInput, written?: Written): Promise<Committed>;
  /**
   * Whether an attempt of a step that commits may run its task. The first may: its job's claim
   * holds the lock. A later one follows an attempt whose answer was lost, which may have written
   * the record and given back the lock. When the record is this dispatch's, the task is done:
   * nothing runs, so the record and the uploaded files stay those of one run, and the lock is
   * given back, which that attempt may have had no time to do (as `owner` only: a no-op when it
   * did); the objects that record replaced are removed too, as that attempt may have been lost
   * before it removed them. Otherwise the attempt takes the lock again before it runs; when another running workflow holds
   * it (a forced dispatch of the same task), it fails, to be retried.
   */
  beforeRun(input: {
    task: Task;
    dispatchId: string;
    owner: string;
    attempt: number;
  }): Promise<'run' | 'committed'>;
}

/** The commits of tasks' records over their collection, their objects and the task locks. */
export function createTaskCommits({
  records,
  objects,
  locks,
}: {
  records: Collection<StoredRecord>;
  objects: ObjectStore;
  locks: Pick<TaskLocks, 'claim' | 'release'>;
}): TaskCommits {
  /** Every object of the task's folder but those under `keep`: what a replaced record named. */
  async function removeAllBut(task: Task, keep: string): Promise<void> {
    const { bucket, prefix } = folderOf(task.location);
    const kept = folderOf(keep).prefix;
    const listed = await objects.list(bucket, prefix);
    await objects.remove(
      bucket,
      listed.map(({ key }) => key).filter((key) => !key.startsWith(kept)),
    );
  }

  /** A run's own folder beside a record it did not replace. */
  async function removeRun(input: RecordInput): Promise<void> {
    const { bucket, prefix } = folderOf(runLocation(input));
    const listed = await objects.list(bucket, prefix);
    await objects.remove(
      bucket,
      listed.map(({ key }) => key),
    );
  }

  /** The marker of the upload whose record is now written (or refused): its folder is whole. */
  async function dropMarker(location: string): Promise<void> {
    const { bucket, key } = uploadMarker(location);
    await objects.remove(bucket, [key]);
  }

  async function write(
    input: CommitInput,
    written?: Written,
  ): Promise<{ outcome: Committed; location: string }> {
    const current = written
      ? written.current
      : await records.findOne(
          { _id: input.task.hash },
          { projection: { _id: 1, location: 1, dispatch_id: 1 } },
        );
    const { location, committed } = placement(input, current);
    if (committed) {
      // Its switch landed; the removal of what it replaced may not have.
      if (!sameFolder(location, input.task.location)) await removeAllBut(input.task, location);
      return { outcome: 'existed', location };
    }
    const replaces = input.force || input.task.replace_record === true;
    if (current && !replaces) {
      // A record that came first stays, with its objects; this run's copy beside it goes.
      await removeRun(input);
      return { outcome: 'existed', location };
    }
    // Refused before anything is read: file names are values, never keys, so the record with
    // no files is as storable as the one with them.
    checkStorable(taskRecord(input, [], location));
    const record =
      written?.record.location === location ? written.record : await uploadedRecord(objects, input, location);
    if (!record)
      throw nonRetryable(
        ErrorType.ResultsLost,
        `the results of this run are not whole at ${location}; the task runs again`,
      );
    try {
      if (!current) await records.insertOne(record);
      else {
        const switched = await records.replaceOne(
          { _id: record._id, location: current.location, dispatch_id: current.dispatch_id },
          record,
        );
        if (switched.matchedCount !== 1)
          throw new Error(`the record of ${record._id} changed while this run replaced it; trying again`);
      }
    } catch (err) {
      if (isRejectedDocument(err))
        throw nonRetryable(ErrorType.InvalidOutputs, `the database refused the record: ${err.message}`);
      if (!isDuplicateKey(err)) throw err;
      // Another run's record came first, between the read and the write: a run that was to
      // replace a record tries again and writes beside it; one that was not keeps it.
      if (replaces) throw new Error(`a record of ${record._id} was written meanwhile; trying again`);
      return { outcome: 'existed', location };
    }
    await pauseForTest('after-record', record._id);
    if (!sameFolder(location, input.task.location)) await removeAllBut(input.task, location);
    return { outcome: 'written', location };
  }

  return {
    async commit(input, written) {
      const { outcome, location } = await write(input, written);
      await dropMarker(location);
      await pauseForTest('before-lock-release', input.task.hash);
      await locks.release(input.task.hash, input.owner);
      return outcome;
    },

    async beforeRun({ task, dispatchId, owner, attempt }) {
      if (attempt <= 1) return 'run';
      const recorded = await records.findOne(
        { _id: task.hash },
        { projection: { dispatch_id: 1, location: 1 } },
      );
      if (recorded?.dispatch_id === dispatchId) {
        // The worker of that attempt may have been lost between the switch and the removal.
        if (recorded.location && !sameFolder(recorded.location, task.location))
          await removeAllBut(task, recorded.location);
        // Lost before its marker went, too: the record's folder is one of the task's own
        // (placement), and a record that says otherwise has no marker of this task's to drop.
        if (recorded.location && insideFolder(recorded.location, task.location))
          await dropMarker(recorded.location);
        await locks.release(task.hash, owner);
        return 'committed';
      }
      if (!(await locks.claim(task.hash, owner)))
        throw new Error(
          `another dispatch took this task's lock after an earlier attempt of this step gave it back; trying again later`,
        );
      return 'run';
    },
  };
}
