import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import {
  ApplicationFailure,
  CancelledFailure,
  TerminatedFailure,
  TimeoutFailure,
  WorkflowNotFoundError,
} from '@temporalio/common';
import {
  closedOutcome,
  currentOutcome,
  rootCause,
  type DispatchClose,
  type FailureChain,
  type Outcome,
} from '../../dispatch-outcome';
import type { dispatch } from '../../workflows/dispatch';
import { progressQuery, type DispatchProgress } from '../../workflows/messages';
import { dispatchWorkflowId } from '../../workflow-ids';
import { noSuchDispatch } from '../common';

export type DispatchHandle = WorkflowHandle<typeof dispatch>;

export function dispatchHandle(client: Client, dispatchId: string): DispatchHandle {
  return client.workflow.getHandle<typeof dispatch>(dispatchWorkflowId(dispatchId));
}

/** The final outcome of a closed dispatch, read from its result or failure. */
export async function readClosedOutcome(handle: DispatchHandle): Promise<Outcome> {
  return readClosed(handle, async () => (await handle.describe()).closeTime);
}

/**
 * Where a dispatch stands now, running or closed, with one describe: against a remote server each
 * round trip is what a user waits for at the terminal.
 */
export async function readCurrentOutcome(handle: DispatchHandle): Promise<Outcome> {
  const description = await describeDispatch(handle);
  if (description.status.name === 'RUNNING')
    return currentOutcome({ running: true, progress: await tryQuery(handle) });
  return readClosed(handle, async () => description.closeTime);
}

/**
 * `closeTime` is asked for once the result is in, when the dispatch has certainly closed. The
 * closed workflow is queried only when how it closed does not carry its progress.
 */
async function readClosed(
  handle: DispatchHandle,
  closeTime: () => Promise<Date | undefined>,
): Promise<Outcome> {
  const close = await closeOf(handle);
  const carried = closedOutcome(close).progress;
  const closedAt = (await closeTime())?.getTime();
  return currentOutcome({
    running: false,
    close,
    progress: carried ? undefined : await tryQuery(handle),
    closedAt,
  });
}

async function closeOf(handle: DispatchHandle): Promise<DispatchClose> {
  try {
    return { kind: 'completed', result: await handle.result() };
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    return failureClose(err);
  }
}

/** How a dispatch closed, from the error its result threw. */
export function failureClose(err: WorkflowFailedError): DispatchClose {
  const cause = err.cause;
  if (cause instanceof CancelledFailure) return { kind: 'cancelled' };
  if (cause instanceof TerminatedFailure) return { kind: 'terminated', reason: rootCause(cause).message };
  if (cause instanceof TimeoutFailure) return { kind: 'timed_out', message: rootCause(cause).message };
  return { kind: 'failed', failure: failureChain(cause ?? err) };
}

function failureChain(err: Error): FailureChain {
  return {
    kind: err instanceof ApplicationFailure ? 'application' : 'other',
    message: err.message,
    ...(err instanceof ApplicationFailure
      ? { type: err.type ?? undefined, details: err.details ?? undefined }
      : {}),
    ...(err.cause instanceof Error ? { cause: failureChain(err.cause) } : {}),
  };
}

export async function tryQuery(handle: DispatchHandle): Promise<DispatchProgress | undefined> {
  try {
    return await handle.query(progressQuery);
  } catch {
    return undefined;
  }
}

/** Whether the dispatch still runs; one that does not exist is a mistake in the id given. */
export async function isRunning(handle: DispatchHandle): Promise<boolean> {
  return (await describeDispatch(handle)).status.name === 'RUNNING';
}

async function describeDispatch(handle: DispatchHandle) {
  try {
    return await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw noSuchDispatch(handle.workflowId);
    throw err;
  }
}
