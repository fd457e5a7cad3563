import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';

/** A job workflow that no longer runs: how it closed, or NOT_FOUND when the server has none. */
export interface ClosedJob {
  workflowId: string;
  status: string;
  /** What a job that completed returned: its report, which it sends no signal for. */
  report?: unknown;
}

/** Describes at most this many jobs at once, so a wide window does not flood the server. */
const DESCRIBES_AT_ONCE = 20;
/** How often a step waiting for jobs to close tells the server it is alive. */
const HEARTBEAT_EVERY_MS = 10_000;
/** After the first job closes, how long a waiting step gathers others closing about then. */
const GATHER_MS = 500;

/**
 * A workflow cannot describe another one, so the dispatch asks this activity which of the jobs it
 * counts as running have closed: a job terminated by hand (or timed out) never reports, and its
 * slot would otherwise be held for ever. A job that completed is read back for its result, its
 * report. With `waitSeconds`, the step first waits (heartbeating) until one of the jobs closes or
 * that time has passed: how a dispatch hears of the jobs an earlier run of it started, which
 * report by their result to the run that started them only.
 */
export const createJobActivities = ({ temporal }: { temporal: () => Client }) => ({
  async closedJobs(input: { workflowIds: string[]; waitSeconds?: number }): Promise<ClosedJob[]> {
    const candidates =
      input.waitSeconds === undefined
        ? input.workflowIds
        : await firstToClose(temporal(), input.workflowIds, input.waitSeconds * 1000);
    const closed: ClosedJob[] = [];
    for (let i = 0; i < candidates.length; i += DESCRIBES_AT_ONCE) {
      const statuses = await Promise.all(
        candidates.slice(i, i + DESCRIBES_AT_ONCE).map((workflowId) => closedJob(temporal(), workflowId)),
      );
      closed.push(...statuses.filter((job) => job.status !== 'RUNNING'));
    }
    return closed;
  },
});

async function closedJob(client: Client, workflowId: string): Promise<ClosedJob> {
  const handle = client.workflow.getHandle(workflowId);
  try {
    const status = (await handle.describe()).status.name;
    if (status !== 'COMPLETED') return { workflowId, status };
    return { workflowId, status, report: await handle.result() };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { workflowId, status: 'NOT_FOUND' };
    throw err;
  }
}

/**
 * The workflows that closed (however: a failure or a missing workflow counts) within `ms`, or
 * within a moment of the first one that did, so jobs closing together are counted in one step.
 * Each wait is a long poll on its workflow's result, which the server answers as it closes.
 */
async function firstToClose(client: Client, workflowIds: string[], ms: number): Promise<string[]> {
  const context = Context.current();
  const stop = new AbortController();
  const cancelled = () => stop.abort();
  context.cancellationSignal.addEventListener('abort', cancelled);
  let timer = setTimeout(() => stop.abort(), ms);
  const beat = setInterval(() => context.heartbeat(), HEARTBEAT_EVERY_MS);
  const closed: string[] = [];
  const onClose = (workflowId: string) => {
    if (stop.signal.aborted) return;
    if (closed.push(workflowId) === 1) {
      clearTimeout(timer);
      timer = setTimeout(() => stop.abort(), GATHER_MS);
    }
  };
  try {
    await client.withAbortSignal(stop.signal, () =>
      Promise.all(
        workflowIds.map((workflowId) =>
          client.workflow
            .getHandle(workflowId)
            .result()
            .then(
              () => onClose(workflowId),
              () => onClose(workflowId),
            ),
        ),
      ),
    );
  } finally {
    clearTimeout(timer);
    clearInterval(beat);
    context.cancellationSignal.removeEventListener('abort', cancelled);
    stop.abort();
  }
  if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason;
  return closed;
}
