import { randomUUID } from 'node:crypto';
import type { Collection } from 'mongodb';
import { isDuplicateKey } from './mongo-errors';

/**
 * One of the N run slots of an analysis with `max_concurrent: N`, `_id` `<analysis>#<k>`. Slots
 * are made on first use and never counted: holding slot k is what a run needs, so N never has to
 * be read back from the database and two workers never race on a counter.
 */
export interface Lease {
  _id: string;
  analysis: string;
  /** New at every take: release and renewal touch the slot only while this holder still has it. */
  token: string;
  /** The job workflow whose run holds the slot: a closed one gives the slot up at once. */
  workflow_id: string;
  run_id: string;
  /** The run step holding it; a later attempt of the same step takes over what an earlier left. */
  activity_id: string;
  worker: string;
  since: Date;
  /** Pushed forward while the holder runs; a slot past it is free, whoever held it. */
  expires: Date;
}

export interface LeaseHolder {
  workflow_id: string;
  run_id: string;
  activity_id: string;
  worker: string;
}

export interface HeldLease {
  slot: string;
  /** Pushes the expiry forward; false when the slot was taken over after it lapsed. */
  renew(): Promise<boolean>;
  release(): Promise<void>;
}

export interface Leases {
  /** Takes a free slot of `analysis` (one of `cap`), or undefined when all are held. */
  acquire(analysis: string, cap: number, holder: LeaseHolder): Promise<HeldLease | undefined>;
}

/**
 * How long a slot outlives its holder's last renewal. Renewals come every third of it, so two
 * missed ones (a stalled event loop, a slow database) do not lose the slot, and a worker killed
 * outright frees its slots within this time.
 */
export const LEASE_TTL_MS = 30_000;

/** How long a holder's workflow seen running is taken to be running still. */
const RUNNING_RECHECK_MS = 60_000;

export function slotIds(analysis: string, cap: number): string[] {
  return Array.from({ length: cap }, (_, k) => `${analysis}#${k}`);
}

/**
 * Leases over their collection, with only what FerretDB, MongoDB and DocumentDB all do alike:
 * an insert with a unique `_id` takes a slot never used, and an update filtered on the token read
 * takes over a free one, so of two workers racing for a slot exactly one wins. `isRunning` says
 * whether a holder's workflow still runs (its status in Temporal).
 */
export function createLeases({
  leases,
  isRunning,
  ttlMs = LEASE_TTL_MS,
  now = () => new Date(),
}: {
  leases: Collection<Lease>;
  isRunning: (workflowId: string) => Promise<boolean>;
  ttlMs?: number;
  now?: () => Date;
}): Leases {
  const expiry = () => new Date(now().getTime() + ttlMs);
  // A holder seen running is not asked about again for a while: runs waiting for a slot look at
  // every slot each second, and each question is a call to Temporal.
  const seenRunning = new Map<string, number>();

  function held(slot: string, token: string): HeldLease {
    return {
      slot,
      async renew() {
        const renewed = await leases.updateOne({ _id: slot, token }, { $set: { expires: expiry() } });
        return renewed.matchedCount === 1;
      },
      async release() {
        await leases.deleteOne({ _id: slot, token });
      },
    };
  }

  /** A slot its holder has left: lapsed, held by an earlier attempt of the same step, or by a closed job. */
  async function isFree(lease: Lease, holder: LeaseHolder): Promise<boolean> {
    if (lease.expires.getTime() <= now().getTime()) return true;
    if (lease.workflow_id === holder.workflow_id && lease.activity_id === holder.activity_id) return true;
    const seen = seenRunning.get(lease.workflow_id);
    if (seen !== undefined && now().getTime() - seen < RUNNING_RECHECK_MS) return false;
    if (!(await isRunning(lease.workflow_id))) return true;
    if (seenRunning.size > 10_000) seenRunning.clear();
    seenRunning.set(lease.workflow_id, now().getTime());
    return false;
  }

  return {
    async acquire(analysis, cap, holder) {
      const ids = slotIds(analysis, cap);
      const existing = new Map(
        (await leases.find({ _id: { $in: ids } }).toArray()).map((lease) => [lease._id, lease]),
      );
      // Start at a random slot: workers asking at once mostly try different ones.
      const offset = Math.floor(Math.random() * cap);
      const order = ids.map((_, k) => ids[(k + offset) % cap]!);
      for (const slot of order.filter((id) => !existing.has(id))) {
        const token = randomUUID();
        try {
          await leases.insertOne({ _id: slot, analysis, token, ...holder, since: now(), expires: expiry() });
          return held(slot, token);
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
        }
      }
      for (const lease of order.map((id) => existing.get(id)).filter((lease) => lease !== undefined)) {
        if (!(await isFree(lease, holder))) continue;
        const token = randomUUID();
        const taken = await leases.updateOne(
          { _id: lease._id, token: lease.token },
          { $set: { token, ...holder, since: now(), expires: expiry() } },
        );
        if (taken.matchedCount === 1) return held(lease._id, token);
      }
      return undefined;
    },
  };
}
