import type { Db } from 'mongodb';

export const NOTIFY_TARGET_COLLECTION = 'notify_targets';

interface NotifyTarget {
  _id: string;
  url: string;
  saved_at: Date;
}

/**
 * Where a dispatch's end is announced. A webhook's address holds its token, so it is kept here and
 * the workflow carries only the id it is saved under: workflow inputs and activity arguments are
 * readable by anyone who can open the Web UI, and histories are kept after the dispatch ends.
 */
export interface NotifyTargets {
  save(id: string, url: string): Promise<void>;
  /** Undefined when nothing is saved under the id (deleted with its schedule, or never saved). */
  url(id: string): Promise<string | undefined>;
  delete(id: string): Promise<void>;
}

export function createNotifyTargets(db: Db): NotifyTargets {
  const targets = db.collection<NotifyTarget>(NOTIFY_TARGET_COLLECTION);
  return {
    async save(id, url) {
      await targets.replaceOne({ _id: id }, { url, saved_at: new Date() }, { upsert: true });
    },
    async url(id) {
      return (await targets.findOne({ _id: id }, { projection: { url: 1 } }))?.url;
    },
    async delete(id) {
      await targets.deleteOne({ _id: id });
    },
  };
}
