import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Collection } from 'mongodb';
import { MongoBulkWriteError, MongoServerError } from 'mongodb';
import type { TaskLock } from '../clients';
import { ErrorType, nonRetryable } from '../errors';
import { buildRecord, recordedStatus, type RunResult } from '../records';
import type { AnalysisRecord, Task } from '../types';

export type ClaimStatus = 'run' | 'done' | 'changed_code' | 'busy';

export interface RecordDeps {
  records: Collection;
  locks: Collection<TaskLock>;
  /** Asks Temporal whether a lock's owner still runs; a lock of a closed workflow is stale. */
  temporal: () => Client;
  codeCommit: (task: Task) => Promise<string | undefined>;
  /** A job's tasks, from the stored plan. */
  loadJob: (input: { planId: string; jobIndex: number; jobsPerPage: number }) => Promise<Task[]>;
}

const DUPLICATE_KEY = 11000;
/** Server answers about the document itself (bad value, type, size): retrying cannot help. */
const REJECTED_DOCUMENT = new Set([2, 14, 10334, 17280]);

function isDuplicateKey(err: unknown): boolean {
  return err instanceof MongoServerError && err.code === DUPLICATE_KEY;
}

export const createRecordActivities = ({ records, locks, temporal, codeCommit, loadJob }: RecordDeps) => {
  async function ownerIsRunning(owner: string): Promise<boolean> {
    try {
      const description = await temporal().workflow.getHandle(owner).describe();
      return description.status.name === 'RUNNING';
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  }

  /** Takes the task's lock for `owner`, or takes over a lock whose owner has closed. */
  async function claim(hash: string, owner: string): Promise<boolean> {
    try {
      await locks.insertOne({ _id: hash, owner, since: new Date() });
      return true;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
    const held = await locks.findOne({ _id: hash });
    if (!held) return claim(hash, owner);
    if (held.owner === owner) return true;
    if (await ownerIsRunning(held.owner)) return false;
    const taken = await locks.replaceOne({ _id: hash, owner: held.owner }, { owner, since: new Date() });
    return taken.modifiedCount === 1;
  }

  /**
   * Takes the locks of many tasks with one unordered insert: one round trip for a whole job, where
   * a lock per task cost one each (FerretDB: ~35 ms apiece, 3.5 s for a job of 100). Only the
   * tasks whose lock already exists go through `claim`, one by one, to look at its owner.
   */
  async function claimAll(hashes: string[], owner: string): Promise<Set<string>> {
    const conflicts: string[] = [];
    if (hashes.length > 0) {
      const since = new Date();
      try {
        await locks.insertMany(
          hashes.map((hash) => ({ _id: hash, owner, since })),
          { ordered: false },
        );
      } catch (err) {
        if (!(err instanceof MongoBulkWriteError)) throw err;
        const errors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
        if (errors.length === 0 || errors.some((error) => error.code !== DUPLICATE_KEY)) throw err;
        for (const error of errors) conflicts.push(hashes[error.index]!);
      }
    }
    const conflicted = new Set(conflicts);
    const taken = new Set(hashes.filter((hash) => !conflicted.has(hash)));
    for (const hash of conflicts) if (await claim(hash, owner)) taken.add(hash);
    return taken;
  }

  /**
   * Decides, for each task of a job, whether it runs: one read for all the job's records,
   * then one insert of the locks of the tasks to run, so overlapping dispatches never run a
   * task twice at once.
   */
  async function claimTasks(input: {
    tasks: Task[];
    owner: string;
    force: boolean;
    dryRun: boolean;
  }): Promise<ClaimStatus[]> {
    const hashes = input.tasks.map((task) => task.hash);
    const existing = new Map<string, string | undefined>();
    const found = records.find({ _id: { $in: hashes } } as object, {
      projection: { _id: 1, 'code.commit': 1 },
    });
    for await (const doc of found)
      existing.set(String(doc._id), (doc as unknown as Partial<AnalysisRecord>).code?.commit);
    const toLock = input.dryRun
      ? []
      : input.tasks.filter((task) => input.force || !existing.has(task.hash)).map((task) => task.hash);
    const locked = await claimAll(toLock, input.owner);
    const statuses: ClaimStatus[] = [];
    for (const task of input.tasks) {
      if (existing.has(task.hash) && !input.force) {
        statuses.push(recordedStatus(existing.get(task.hash), await codeCommit(task)));
      } else if (input.dryRun) {
        statuses.push('run');
      } else {
        statuses.push(locked.has(task.hash) ? 'run' : 'busy');
      }
    }
    return statuses;
  }

  return {
    claimTasks,

    /**
     * A job's first step: loads its tasks from the stored plan and claims them, in one activity,
     * so a job of one task costs one round trip before its analysis runs, not two.
     */
    async openJob(input: {
      planId: string;
      jobIndex: number;
      jobsPerPage: number;
      owner: string;
      force: boolean;
      dryRun: boolean;
    }): Promise<{ tasks: Task[]; statuses: ClaimStatus[] }> {
      const tasks = await loadJob(input);
      const statuses = await claimTasks({
        tasks,
        owner: input.owner,
        force: input.force,
        dryRun: input.dryRun,
      });
      return { tasks, statuses };
    },

    /** The commit point of a task: its record. Written once; `force` replaces it. */
    async commitTask(input: {
      task: Task;
      run: RunResult;
      dispatchId: string;
      owner: string;
      force: boolean;
    }): Promise<'written' | 'existed'> {
      const record = buildRecord(input.task, input.run, input.dispatchId);
      let outcome: 'written' | 'existed' = 'written';
      if (input.force) {
        await records.replaceOne({ _id: record._id } as object, record, { upsert: true });
      } else {
        try {
          await records.insertOne(record as object);
        } catch (err) {
          if (err instanceof MongoServerError && REJECTED_DOCUMENT.has(Number(err.code))) {
            throw nonRetryable(ErrorType.InvalidOutputs, `the database refused the record: ${err.message}`);
          }
          // A retried commit whose first attempt landed: the record is already there.
          if (!isDuplicateKey(err)) throw err;
          outcome = 'existed';
        }
      }
      await locks.deleteOne({ _id: record._id, owner: input.owner });
      return outcome;
    },

    async releaseTasks(input: { hashes: string[]; owner: string }): Promise<void> {
      await locks.deleteMany({ _id: { $in: input.hashes }, owner: input.owner });
    },
  };
};
