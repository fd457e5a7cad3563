import { MongoBulkWriteError, type Collection } from 'mongodb';
import { DUPLICATE_KEY, isDuplicateKey } from './mongo-errors';

/** Which workflow is running which task hash: keeps one task from running twice at once. */
export interface TaskLock {
  _id: string;
  owner: string;
  since: Date;
}

export interface TaskLocks {
  /** Takes one task's lock for `owner` (true), or takes over a lock whose owner has closed. */
  claim(hash: string, owner: string): Promise<boolean>;
  /** Takes the locks of `hashes` for `owner`; returns the hashes whose lock `owner` now holds. */
  claimAll(hashes: string[], owner: string): Promise<Set<string>>;
  release(hash: string, owner: string): Promise<void>;
  releaseAll(hashes: string[], owner: string): Promise<void>;
}

/**
 * Task locks over their collection. A lock held by an owner that no longer runs is stale and is
 * taken over; `isRunning` says which owners still run (a workflow's status, for the activities).
 */
export function createTaskLocks({
  locks,
  isRunning,
}: {
  locks: Collection<TaskLock>;
  isRunning: (owner: string) => Promise<boolean>;
}): TaskLocks {
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
    if (await isRunning(held.owner)) return false;
    const taken = await locks.replaceOne({ _id: hash, owner: held.owner }, { owner, since: new Date() });
    return taken.modifiedCount === 1;
  }

  return {
    claim,

    /**
     * One unordered insert for all the locks: one round trip for a whole job, where a lock per
     * task cost one each (FerretDB: ~35 ms apiece, 3.5 s for a job of 100). Only the tasks whose
     * lock already exists go through `claim`, one by one, to look at its owner.
     */
    async claimAll(hashes, owner) {
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
    },

    async release(hash, owner) {
      await locks.deleteOne({ _id: hash, owner });
    },

    async releaseAll(hashes, owner) {
      await locks.deleteMany({ _id: { $in: hashes }, owner });
    },
  };
}
