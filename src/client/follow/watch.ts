import { setTimeout as delay } from 'node:timers/promises';
import { ServiceError } from '@temporalio/client';
import { SingleBar, Presets } from 'cli-progress';
import { rootCause, type Outcome, type OutcomeView } from '../../dispatch-outcome';
import type { PlanSummary } from '../../types';
import type { DispatchProgress } from '../../workflows/messages';
import { isRunning, readClosedOutcome, tryQuery, type DispatchHandle } from './reads';
import { announce, barFigures, planLines, reportOutcome } from './summary';

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
          `Temporal server unreachable (${err instanceof Error ? rootCause(err).message : String(err)}); still watching, Ctrl-C stops watching (the dispatch goes on)`,
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
async function waitForPlan(handle: DispatchHandle, taskQueue: string): Promise<DispatchProgress | undefined> {
  const started = Date.now();
  let warned = false;
  for (;;) {
    if (!(await throughOutages(() => isRunning(handle)))) return undefined;
    const progress = await tryQuery(handle);
    // A query can land just after the dispatch closed; the closed path reads its real outcome.
    if (progress && progress.phase !== 'planning')
      return (await throughOutages(() => isRunning(handle))) ? progress : undefined;
    if (!progress && !warned && Date.now() - started > 10_000) {
      console.error(`still waiting: is a worker running on task queue "${taskQueue}"? (analysis worker)`);
      warned = true;
    }
    await delay(500);
  }
}

/**
 * Waits until the dispatch has planned and prints the plan. A dispatch that closed first (it
 * failed in planning, or it had nothing left to run) gives its outcome instead.
 */
export async function awaitPlan(
  handle: DispatchHandle,
  taskQueue: string,
  view: OutcomeView,
): Promise<{ planned: DispatchProgress } | { closed: Outcome }> {
  const say = (plan: PlanSummary | undefined) => {
    if (plan && !view.json) for (const line of planLines(plan)) console.log(line);
  };
  const planned = await waitForPlan(handle, taskQueue);
  if (planned) {
    say(planned.plan);
    return { planned };
  }
  const closed = await throughOutages(() => readClosedOutcome(handle));
  say(closed.progress?.plan);
  return { closed };
}

/** Follows a running dispatch with a progress bar (on a terminal) until it closes. */
async function follow(handle: DispatchHandle, options: { bar: boolean }): Promise<Outcome> {
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
      const figures = progress && barFigures(progress);
      if (figures) {
        const payload = { running: figures.running, failed: figures.failed };
        if (bar) {
          if (!bar.isActive) bar.start(figures.total, figures.finished, payload);
          bar.update(figures.finished, payload);
        } else if (options.bar) {
          const line = `${figures.finished}/${figures.total} tasks, ${figures.running} jobs running, ${figures.failed} failed`;
          if (line !== lastLine) console.error(line);
          lastLine = line;
        }
      }
      await delay(1000);
    }
  } finally {
    bar?.stop();
  }
  return throughOutages(() => readClosedOutcome(handle));
}

/** Follows a dispatch to its end, then prints its summary; resolves to the exit code. */
export async function followToEnd(handle: DispatchHandle, view: OutcomeView): Promise<number> {
  return reportOutcome(await follow(handle, { bar: !view.json }), view);
}

/** Everything a command that waits for a dispatch prints, from its id to its summary. */
export async function watchDispatch(
  handle: DispatchHandle,
  taskQueue: string,
  view: OutcomeView,
): Promise<number> {
  announce(view);
  const start = await awaitPlan(handle, taskQueue, view);
  return 'closed' in start ? reportOutcome(start.closed, view) : followToEnd(handle, view);
}
