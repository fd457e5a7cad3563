import type { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure, CancelledFailure, TerminatedFailure, TimeoutFailure } from '@temporalio/common';
import { ErrorType } from '../errors';
import type { DispatchProgress, DispatchResult } from '../workflows/messages';
import { EXIT } from './common';
import { elapsedSeconds, summaryText, tasksPerSecond } from './summary';

export type OutcomeStatus =
  'completed' | 'completed_with_failures' | 'failed' | 'cancelled' | 'terminated' | 'timed_out' | 'running';

/** How a dispatch ended, or that it still runs. */
export interface Outcome {
  status: OutcomeStatus;
  /** Summary of the run; absent when the dispatch failed before it planned anything. */
  progress?: DispatchProgress;
  error?: string;
  errorType?: string;
  /** When the dispatch closed, in ms since the epoch, so that its elapsed time stops there. */
  endedAt?: number;
}

/** Who reads the summary of which dispatch. */
export interface OutcomeView {
  dispatchId: string;
  /** The dispatch's page in the Temporal Web UI. */
  url: string;
  json: boolean;
}

export function resultOutcome(result: DispatchResult): Outcome {
  return {
    status: result.phase === 'completed_with_failures' ? 'completed_with_failures' : 'completed',
    progress: result,
  };
}

/** The innermost cause of an error: the message that says what went wrong. */
export function rootCause(err: Error): Error {
  let current = err;
  while (current.cause instanceof Error) current = current.cause;
  return current;
}

/**
 * The outcome of a dispatch whose result threw. A failure the workflow raised itself carries its
 * progress as details; otherwise the caller asks the closed workflow for it.
 */
export function failureOutcome(err: WorkflowFailedError): Outcome {
  const cause = err.cause;
  if (cause instanceof CancelledFailure) return { status: 'cancelled' };
  if (cause instanceof ApplicationFailure)
    return {
      status: 'failed',
      progress: cause.details?.[0] as DispatchProgress | undefined,
      error: cause.message,
      errorType: cause.type ?? undefined,
    };
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

/** For the help of every command that waits for a dispatch. */
export { EXIT_CODES_HELP } from './common';

/** The exit code that tells how a dispatch ended; README "Exit codes". */
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
      return outcome.errorType === ErrorType.InvalidInput ? EXIT.input : EXIT.failed;
  }
}

/** What `--json` prints: snake_case throughout, like the progress it carries. */
export function outcomeJson(outcome: Outcome, view: OutcomeView, now = Date.now()) {
  return {
    dispatch_id: view.dispatchId,
    url: view.url,
    status: outcome.status,
    error: outcome.error,
    error_type: outcome.errorType,
    elapsed_s: elapsedSeconds(outcome, now),
    tasks_per_s: tasksPerSecond(outcome, now),
    progress: outcome.progress,
  };
}

/** A dispatch that failed before it had a plan failed on what it was asked: its summary is an error. */
export function failedBeforePlanning(outcome: Outcome): boolean {
  return !outcome.progress?.plan && ['failed', 'terminated', 'timed_out'].includes(outcome.status);
}

/**
 * Prints the summary of a dispatch and answers the command's exit code: the one ending of
 * `dispatch --wait`, `retry --wait`, `status [--watch]` and `schedule trigger --wait`.
 */
export function reportOutcome(outcome: Outcome, view: OutcomeView): number {
  if (view.json) console.log(JSON.stringify(outcomeJson(outcome, view), null, 2));
  else if (failedBeforePlanning(outcome)) console.error(summaryText(outcome, view.dispatchId));
  else console.log(summaryText(outcome, view.dispatchId));
  return exitCodeOf(outcome);
}
