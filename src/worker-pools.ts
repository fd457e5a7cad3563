/**
 * Worker pools: names and the task queues they map to. Pure, so that workflow code may import it.
 *
 * Every worker serves the default pool: the shared task queue (`TEMPORAL_TASK_QUEUE`), where
 * workflows, planning, database steps and the runs of analyses that name no pool go. A worker
 * started with `--pools gpu` also polls `<TEMPORAL_TASK_QUEUE>-pool-gpu`, where the job sends the
 * run step of every task whose analysis names the pool `gpu`. The upload of a run's files goes, as
 * for every run, to the queue of the one worker that ran it.
 */

export const DEFAULT_POOL = 'default';

export const POOL_NAME = /^[a-z0-9][a-z0-9_-]*$/;
export const POOL_NAME_RULE = 'must be a pool name of lower-case letters, digits, "-" and "_"';

/** The task queue whose workers run the analyses of `pool`. */
export function poolTaskQueue(baseQueue: string, pool: string | undefined): string {
  return !pool || pool === DEFAULT_POOL ? baseQueue : `${baseQueue}-pool-${pool}`;
}

/** A pool other than the default, or undefined. */
export function namedPool(pool: string | undefined): string | undefined {
  return pool && pool !== DEFAULT_POOL ? pool : undefined;
}

/**
 * The pools a worker serves besides the default, from `--pools gpu,highmem` (or
 * ANALYSIS_WORKER_POOLS): sorted, without duplicates or `default`. Throws naming a bad entry.
 */
export function parsePools(values: string[]): string[] {
  const pools = new Set<string>();
  for (const raw of values) {
    const pool = raw.trim();
    if (!pool) continue;
    if (!POOL_NAME.test(pool)) throw new Error(`"${pool}" ${POOL_NAME_RULE}`);
    if (pool !== DEFAULT_POOL) pools.add(pool);
  }
  return [...pools].sort();
}
