import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { poolTaskQueue } from './worker-pools';

/** A busy or remote server must not hold a plan up: past this, the pools are not checked. */
const CHECK_TIMEOUT_MS = 5_000;

/**
 * Warnings for the named pools no worker is polling, by asking Temporal who polled each pool's
 * task queue for activities lately. Tasks of such a pool are not lost: they wait on the queue
 * until a worker of the pool starts, which is why this is a warning and never an error.
 */
export async function unservedPoolWarnings(
  client: Client,
  baseQueue: string,
  pools: string[],
): Promise<string[]> {
  const warnings: string[] = [];
  for (const pool of [...new Set(pools)].sort()) {
    const queue = poolTaskQueue(baseQueue, pool);
    let pollers: number;
    try {
      const answer = await client.connection.withDeadline(Date.now() + CHECK_TIMEOUT_MS, () =>
        client.workflowService.describeTaskQueue({
          namespace: client.options.namespace,
          taskQueue: { name: queue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
          taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
        }),
      );
      pollers = answer.pollers?.length ?? 0;
    } catch (err) {
      warnings.push(
        `could not check whether a worker serves pool "${pool}" (task queue ${queue}): ${(err as Error).message}`,
      );
      continue;
    }
    if (pollers === 0) {
      warnings.push(
        `no worker serving pool "${pool}" is polling task queue ${queue}: its tasks wait until one starts (analysis worker --pools ${pool})`,
      );
    }
  }
  return warnings;
}
