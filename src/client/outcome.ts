// No value imports of the SDK here: `status` reads a dispatch without loading it (lean-status.ts).
import { ErrorType } from '../errors';
import type { DispatchProgress, DispatchResult } from '../workflows/messages';
import { dispatchIdOf } from '../workflow-ids';
import { EXIT, ExitError } from './common';
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
 * A dispatch that failed with an error the workflow raised itself: its progress rides along as
 * the failure's details.
 */
export function raisedOutcome(failure: {
  message: string;
  type?: string | null;
  details?: unknown[] | null;
}): Outcome {
  return {
    status: 'failed',
    progress: failure.details?.[0] as DispatchProgress | undefined,
    error: failure.message,
    errorType: failure.type ?? undefined,
  };
}

/** The dispatch id and its Web UI link, first of all, so that the user can follow it elsewhere. */
export function announce(view: OutcomeView): void {
  if (!view.json) console.log(`dispatch ${view.dispatchId}\nweb ui   ${view.url}`);
}

/** The error of a dispatch id the Temporal server does not know: a mistake in what was typed. */
export function noSuchDispatch(workflowId: string): ExitError {
  return new ExitError(`no dispatch ${dispatchIdOf(workflowId)} on this Temporal server`, EXIT.input);
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
