import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Collection } from 'mongodb';
import type { PlanStore } from '../storage/plan-store';
import { inputsChanged } from '../input-digest';
import { recordedStatus } from '../task-record';
import type { FindByIds } from '../storage/id-lookups';
import { checkTaskIdentity } from '../identity';
import type { ObjectStore } from '../storage/object-store';
import { createTaskCommits, type CommitInput, type Committed } from '../storage/task-commit';
import { createTaskLocks, type TaskLock, type TaskLocks } from '../storage/task-locks';
import type { StoredRecord, Task } from '../types';

export type ClaimStatus = 'run' | 'done' | 'changed_code' | 'busy';

export interface RecordDeps {
  records: Collection<StoredRecord>;
  /** The task locks, shared with the run step. */
  taskLocks: TaskLocks;
  codeCommit: (task: Task) => Promise<string | undefined>;
  /** Where a job's tasks are read from. */
  plans: PlanStore;
  /** Reads records by their ids in the way the database answers best. */
  findByIds: FindByIds;
  /** The results' objects, which a commit checks and, once replaced, removes. */
  objects: ObjectStore;
}

/** Task locks whose owners are workflows: a lock of a workflow that has closed is stale. */
export function workflowTaskLocks(locks: Collection<TaskLock>, temporal: () => Client): TaskLocks {
  return createTaskLocks({ locks, isRunning: workflowIsRunning(temporal) });
}

/** Whether a workflow still runs, by its status in Temporal: what makes a lock or lease stale. */
export function workflowIsRunning(temporal: () => Client): (workflowId: string) => Promise<boolean> {
  return async (workflowId) => {
    try {
      const description = await temporal().workflow.getHandle(workflowId).describe();
      return description.status.name === 'RUNNING';
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false;
      throw err;
    }
  };
}

export const createRecordActivities = ({
  records,
  taskLocks,
  codeCommit,
  plans,
  findByIds,
  objects,
}: RecordDeps) => {
  const commits = createTaskCommits({ records, objects, locks: taskLocks });

  /**
   * Decides, for each task of a job, whether it runs: one insert of the locks of all its tasks,
   * then one read of their records, so overlapping dispatches never run a task twice at once. The
   * locks come first: a record is written before its lock is given back, so a record read after
   * the lock is taken is the last one, and a task committed by another dispatch since its plan
   * was made is seen done, never run again over committed files. Locks of tasks that turn out
   * done are given back at once.
   */
  async function claimTasks(input: {
    tasks: Task[];
    owner: string;
    force: boolean;
    dryRun: boolean;
  }): Promise<ClaimStatus[]> {
    const hashes = input.tasks.map((task) => task.hash);
    const locked = await taskLocks.claimAll(input.dryRun ? [] : hashes, input.owner);
    const existing = new Map<string, { commit?: string; digest?: string }>();
    const found = await findByIds(records, hashes, { _id: 1, 'code.commit': 1, input_digest: 1 });
    for (const doc of found)
      existing.set(doc._id, {
        commit: doc.code?.commit,
        digest: 'input_digest' in doc ? doc.input_digest : undefined,
      });
    // A task planned to replace its record runs as a forced one would, unless a run from the
    // same inputs replaced it meanwhile (an overlapping dispatch, an earlier attempt of this job).
    const runs = (task: Task) => {
      const record = existing.get(task.hash);
      return input.force || !record || (task.replace_record === true && inputsChanged(record.digest, task));
    };
    const unneeded = input.tasks
      .filter((task) => locked.has(task.hash) && !runs(task))
      .map((task) => task.hash);
    if (unneeded.length > 0) await taskLocks.releaseAll(unneeded, input.owner);
    const statuses: ClaimStatus[] = [];
    for (const task of input.tasks) {
      const record = existing.get(task.hash);
      if (record && !runs(task)) {
        statuses.push(recordedStatus(record.commit, await codeCommit(task)));
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
     * so a job of one task costs one round trip before its analysis runs, not two. `planId` is the
     * dispatch's id, as jobs of every version send it.
     */
    async openJob(input: {
      planId: string;
      jobIndex: number;
      jobsPerPage: number;
      owner: string;
      force: boolean;
      dryRun: boolean;
    }): Promise<{ tasks: Task[]; statuses: ClaimStatus[] }> {
      const tasks = await plans.loadJob(input.planId, input.jobIndex, input.jobsPerPage);
      const statuses = await claimTasks({
        tasks,
        owner: input.owner,
        force: input.force,
        dryRun: input.dryRun,
      });
      return { tasks, statuses };
    },

    /** The job's commit step, for tasks whose run step did not write the record itself. */
    async commitTask(input: CommitInput): Promise<Committed> {
      checkTaskIdentity(input.task);
      return await commits.commit(input);
    },

    async releaseTasks(input: { hashes: string[]; owner: string }): Promise<void> {
      await taskLocks.releaseAll(input.hashes, input.owner);
    },
  };
};
