import { setTimeout as delay } from 'node:timers/promises';
import { ServiceError, WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { SingleBar, Presets } from 'cli-progress';
import type { dispatch } from '../workflows/dispatch';
import { progressQuery, type DispatchProgress, type DispatchResult } from '../workflows/messages';
import { EXIT } from './common';
import { dispatchWorkflowId } from './ids';

export type DispatchHandle = WorkflowHandle<typeof dispatch>;

export interface Outcome {
  status:
    'completed' | 'completed_with_failures' | 'failed' | 'cancelled' | 'terminated' | 'timed_out' | 'running';
  /** Summary of the run; absent when the dispatch failed before it planned anything. */
  progress?: DispatchProgress;
  error?: string;
  errorType?: string;
}

export function dispatchHandle(client: Client, dispatchId: string): DispatchHandle {
  return client.workflow.getHandle<typeof dispatch>(dispatchWorkflowId(dispatchId));
}

function rootCause(err: unknown): Error | undefined {
  let current = err instanceof Error ? err : undefined;
  while (current && 'cause' in current && current.cause instanceof Error) current = current.cause;
  return current;
}

/** The final outcome of a closed dispatch, read from its result or failure. */
export async function outcomeOf(handle: DispatchHandle): Promise<Outcome> {
  try {
    const result: DispatchResult = await handle.result();
    return {
      status: result.phase === 'completed_with_failures' ? 'completed_with_failures' : 'completed',
      progress: result,
    };
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const cause = err.cause;
    if (cause instanceof CancelledFailure) return { status: 'cancelled', progress: await tryQuery(handle) };
    if (cause instanceof ApplicationFailure) {
      const details = cause.details?.[0] as DispatchProgress | undefined;
      return {
        status: 'failed',
        progress: details ?? (await tryQuery(handle)),
        error: cause.message,
        errorType: cause.type ?? undefined,
      };
    }
    const root = rootCause(cause);
    const status = err.message.includes('terminated')
      ? 'terminated'
      : err.message.includes('timed out')
        ? 'timed_out'
        : 'failed';
    return {
      status,
      progress: await tryQuery(handle),
      error: root?.message ?? err.message,
      errorType: root instanceof ApplicationFailure ? (root.type ?? undefined) : undefined,
    };
  }
}

export async function tryQuery(handle: DispatchHandle): Promise<DispatchProgress | undefined> {
  try {
    return await handle.query(progressQuery);
  } catch {
    return undefined;
  }
}

export async function isRunning(handle: DispatchHandle): Promise<boolean> {
  return (await handle.describe()).status.name === 'RUNNING';
}

/** gRPC codes of a server that is down or restarting: 14 UNAVAILABLE, 4 DEADLINE_EXCEEDED. */
const SERVER_DOWN = new Set([14, 4]);

function serverDown(err: unknown): boolean {
  return (
    err instanceof ServiceError && SERVER_DOWN.has((err.cause as { code?: number } | undefined)?.code ?? -1)
  );
}

/**
 * Calls `call` again until the Temporal server answers. For the long watches (`--wait`, `status
 * --watch`): the dispatch goes on through a server restart, so the one watching it should too,
 * instead of exiting with "Failed to describe workflow" once the client's own retries run out.
 */
async function throughOutages<T>(call: () => Promise<T>): Promise<T> {
  let since: number | undefined;
  for (;;) {
    try {
      const result = await call();
      if (since !== undefined)
        console.error(`Temporal server reachable again after ${Math.round((Date.now() - since) / 1000)} s`);
      return result;
    } catch (err) {
      if (!serverDown(err)) throw err;
      if (since === undefined) {
        since = Date.now();
        console.error(
          `Temporal server unreachable (${rootCause(err)?.message ?? String(err)}); still watching, Ctrl-C stops watching (the dispatch goes on)`,
        );
      }
      await delay(2_000);
    }
  }
}

/**
 * Waits until planning is over (or the dispatch closed), telling the user when no worker seems
 * to pick the dispatch up.
 */
export async function waitForPlan(
  handle: DispatchHandle,
  taskQueue: string,
): Promise<DispatchProgress | undefined> {
  const started = Date.now();
  let warned = false;
  for (;;) {
    if (!(await throughOutages(() => isRunning(handle)))) return undefined;
    const progress = await tryQuery(handle);
    // A query can land just after the dispatch closed; the closed path reads its real outcome.
    if (progress && progress.phase !== 'planning')
      return (await throughOutages(() => isRunning(handle))) ? progress : undefined;
    if (!progress && !warned && Date.now() - started > 10_000) {
      console.error(`still waiting: is a worker running on task queue "${taskQueue}"? (npx analysis worker)`);
      warned = true;
    }
    await delay(500);
  }
}

/** Follows a running dispatch with a progress bar (on a terminal) until it closes. */
export async function follow(
  handle: DispatchHandle,
  options: { bar: boolean; intervalMs?: number },
): Promise<Outcome> {
  const bar =
    options.bar && process.stderr.isTTY
      ? new SingleBar(
          {
            format:
              ' {bar} {value}/{total} tasks | {running} running | {failed} failed | {eta_formatted} left',
            hideCursor: true,
            stream: process.stderr,
          },
          Presets.shades_classic,
        )
      : undefined;
  let lastLine = '';
  try {
    while (await throughOutages(() => isRunning(handle))) {
      const progress = await tryQuery(handle);
      if (progress?.plan) {
        const payload = { running: progress.running, failed: progress.counts.failed };
        if (bar) {
          if (!bar.isActive) bar.start(progress.plan.tasks_to_run, progress.tasksFinished, payload);
          bar.update(progress.tasksFinished, payload);
        } else if (options.bar) {
          const line = `${progress.tasksFinished}/${progress.plan.tasks_to_run} tasks, ${progress.running} jobs running, ${progress.counts.failed} failed`;
          if (line !== lastLine) console.error(line);
          lastLine = line;
        }
      }
      await delay(options.intervalMs ?? 1000);
    }
  } finally {
    bar?.stop();
  }
  return throughOutages(() => outcomeOf(handle));
}

/** The exit code that tells how a dispatch ended. */
export function exitCodeOf(outcome: Outcome): number {
  switch (outcome.status) {
    case 'completed':
    case 'running':
      return EXIT.ok;
    case 'completed_with_failures':
      return EXIT.partial;
    case 'cancelled':
      return EXIT.cancelled;
    default:
      return outcome.errorType === 'InvalidInput' ? EXIT.input : EXIT.failed;
  }
}
