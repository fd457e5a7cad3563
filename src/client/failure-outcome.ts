import type { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure, TerminatedFailure, TimeoutFailure } from '@temporalio/common';
import { raisedOutcome, rootCause, type Outcome } from './outcome';

/**
 * The outcome of a dispatch whose result threw. A failure the workflow raised itself carries its
 * progress as details; otherwise the caller asks the closed workflow for it.
 */
export function failureOutcome(err: WorkflowFailedError): Outcome {
  const cause = err.cause;
  if (cause instanceof CancelledFailure) return { status: 'cancelled' };
  if (cause instanceof ApplicationFailure) return raisedOutcome(cause);
  const root = cause ? rootCause(cause) : err;
  return {
    status:
      cause instanceof TerminatedFailure
        ? 'terminated'
        : cause instanceof TimeoutFailure
          ? 'timed_out'
          : 'failed',
    error: root.message,
    errorType: root instanceof ApplicationFailure ? (root.type ?? undefined) : undefined,
  };
}
