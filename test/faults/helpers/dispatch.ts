import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { CliResult } from '../../helpers/cli';
import { ROOT } from '../../helpers/stack';
import type { dispatch } from '../../../src/workflows/dispatch';
import { progressQuery, type DispatchProgress } from '../../../src/workflows/messages';

export interface RunningDispatch {
  id: string;
  workflowId: string;
  handle: WorkflowHandle<typeof dispatch>;
  /** The CLI's exit, output and time taken, once it has ended. */
  cli: Promise<CliResult & { ms: number }>;
  /** Set when the watchdog gave up on a dispatch whose workflow task keeps failing. */
  stuck(): string | undefined;
  /** The dispatch's progress query, or undefined while it does not answer (e.g. Temporal is down). */
  progress(): Promise<DispatchProgress | undefined>;
  /** Waits until the progress satisfies `ready`; fails after `timeoutMs`. */
  until(ready: (progress: DispatchProgress) => boolean, timeoutMs: number): Promise<DispatchProgress>;
}

/**
 * Runs `analysis dispatch ... --wait` as a user would and resolves as soon as it printed the
 * dispatch id, while the CLI goes on following the dispatch; the test meanwhile breaks things.
 */
export async function startDispatch(
  client: Client,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 15 * 60_000,
): Promise<RunningDispatch> {
  const started = Date.now();
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'analysis.js'), 'dispatch', ...args, '--wait'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  // Settles only once the watchdog below is stopped and idle, so that nothing of it outlives the test.
  let stopWatchdog = async (): Promise<void> => undefined;
  const cli = new Promise<CliResult & { ms: number }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const ms = Date.now() - started;
      void stopWatchdog().then(() => resolve({ code, stdout, stderr, ms }));
    });
  });
  let ended = false;
  void cli.then(() => (ended = true));

  let id: string | undefined;
  while (!(id = /^dispatch (\S+)$/m.exec(stdout)?.[1])) {
    if (ended) throw new Error(`dispatch ended before printing its id:\n${stdout}\n${stderr}`);
    await delay(50);
  }
  const workflowId = `dispatch-${id}`;
  const handle = client.workflow.getHandle<typeof dispatch>(workflowId);
  let queryError: { message: string; since: number } | undefined;
  const progress = async () => {
    try {
      const answer = await handle.query(progressQuery);
      queryError = undefined;
      return answer;
    } catch (err) {
      const message = (err as Error).message;
      if (queryError?.message !== message) queryError = { message, since: Date.now() };
      return undefined;
    }
  };
  // A dispatch whose workflow task keeps failing (a nondeterminism error, say) never ends by
  // itself: stop the CLI and say why, instead of waiting for the test's own time limit.
  let stuck: string | undefined;
  let tick: Promise<void> = Promise.resolve();
  const watchdog = setInterval(() => {
    tick = (async () => {
      await progress();
      if (!queryError || !/Workflow Task in failed state/i.test(queryError.message)) return;
      if (Date.now() - queryError.since < STUCK_AFTER_MS) return;
      stuck = `workflow task of ${workflowId} failing for ${STUCK_AFTER_MS / 1000} s: ${await lastTaskFailure(handle)}`;
      child.kill('SIGKILL');
    })();
  }, 5_000);
  stopWatchdog = async () => {
    clearInterval(watchdog);
    await tick;
  };
  return {
    id,
    workflowId,
    handle,
    cli,
    stuck: () => stuck,
    progress,
    async until(ready, waitMs) {
      const deadline = Date.now() + waitMs;
      for (;;) {
        const current = await progress();
        if (current && ready(current)) return current;
        if (ended) {
          const result = await cli;
          throw new Error(
            `dispatch ended first (exit ${result.code}${stuck ? `; ${stuck}` : ''}):\n${result.stdout}\n${result.stderr}`,
          );
        }
        if (Date.now() > deadline)
          throw new Error(`dispatch not ready after ${waitMs / 1000} s: ${JSON.stringify(current)}`);
        await delay(1_000);
      }
    },
  };
}

const STUCK_AFTER_MS = 60_000;

/** The message of the latest failed workflow task in a workflow's history. */
async function lastTaskFailure(handle: WorkflowHandle): Promise<string> {
  try {
    const { events } = await handle.fetchHistory();
    const failed = (events ?? []).filter((event) => event.workflowTaskFailedEventAttributes).pop();
    return (
      failed?.workflowTaskFailedEventAttributes?.failure?.message ?? 'no failed workflow task in history'
    );
  } catch (err) {
    return `history not readable: ${(err as Error).message}`;
  }
}
