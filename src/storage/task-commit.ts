import type { Collection } from 'mongodb';
import { buildRecord } from '../aind/metadata';
import { ErrorType, nonRetryable } from '../errors';
import type { RunResult } from '../task-record';
import type { AnalysisRecord, StoredRecord, Task } from '../types';
import { isDuplicateKey, isRejectedDocument } from './mongo-errors';
import type { TaskLocks } from './task-locks';

/** One dispatch's run of one task: what its record is made of. */
export interface RecordInput {
  task: Task;
  run: RunResult;
  dispatchId: string;
}

/** What writing a task's record takes: its job holds the task's lock as `owner` until then. */
export interface CommitInput extends RecordInput {
  owner: string;
  force: boolean;
}

export type Committed = 'written' | 'existed';

/**
 * The record of a task's run, the one the database keeps and the one uploaded beside the results
 * (recordFile): both come from here, so a retried upload can tell its own copy by comparing it.
 */
export function taskRecord({ task, run, dispatchId }: RecordInput): AnalysisRecord {
  return buildRecord(task, run, dispatchId);
}

/** The record as the file uploaded beside the results holds it: one JSON line. */
export function recordFile(input: RecordInput): string {
  return JSON.stringify(taskRecord(input)) + '\n';
}

export interface TaskCommits {
  /**
   * The commit point of a task: its record, then its lock given back. Written once; `force`, or a
   * task planned to replace its record (its inputs changed), replaces it.
   */
  commit(input: CommitInput): Promise<Committed>;
  /**
   * Whether an attempt of a step that commits may run its task. The first may: its job's claim
   * holds the lock. A later one follows an attempt whose answer was lost, which may have written
   * the record and given back the lock. When the record is this dispatch's, the task is done:
   * nothing runs, so the record and the uploaded files stay those of one run, and the lock is
   * given back, which that attempt may have had no time to do (as `owner` only: a no-op when it
   * did). Otherwise the attempt takes the lock again before it runs; when another running
   * workflow holds it (a forced dispatch of the same task), it fails, to be retried.
   */
  beforeRun(input: {
    hash: string;
    dispatchId: string;
    owner: string;
    attempt: number;
  }): Promise<'run' | 'committed'>;
}

/** The commits of tasks' records over their collection and the task locks their jobs hold. */
export function createTaskCommits({
  records,
  locks,
}: {
  records: Collection<StoredRecord>;
  locks: Pick<TaskLocks, 'claim' | 'release'>;
}): TaskCommits {
  return {
    async commit(input) {
      const record = taskRecord(input);
      let outcome: Committed = 'written';
      if (input.force || input.task.replace_record) {
        await records.replaceOne({ _id: record._id }, record, { upsert: true });
      } else {
        try {
          await records.insertOne(record);
        } catch (err) {
          if (isRejectedDocument(err)) {
            throw nonRetryable(ErrorType.InvalidOutputs, `the database refused the record: ${err.message}`);
          }
          // A retried commit whose first attempt landed: the record is already there.
          if (!isDuplicateKey(err)) throw err;
          outcome = 'existed';
        }
      }
      await locks.release(record._id, input.owner);
      return outcome;
    },

    async beforeRun({ hash, dispatchId, owner, attempt }) {
      if (attempt <= 1) return 'run';
      const recorded = await records.findOne({ _id: hash }, { projection: { dispatch_id: 1 } });
      if (recorded?.dispatch_id === dispatchId) {
        await locks.release(hash, owner);
        return 'committed';
      }
      if (!(await locks.claim(hash, owner)))
        throw new Error(
          `another dispatch took this task's lock after an earlier attempt of this step gave it back; trying again later`,
        );
      return 'run';
    },
  };
}
