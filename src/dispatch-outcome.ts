/**
 * How a dispatch stands, or how it ended, from what the Temporal server answered about it: the one
 * reading that `status`, `--wait`, `retry`, `schedule trigger` and `report` share. No I/O and no
 * SDK here: the callers ask the server and pass its answers in, so `status` can read a dispatch
 * without loading the SDK.
 */
import { ErrorType } from './errors';
import type { DispatchProgress, DispatchResult } from './workflows/messages';

/**
 * Exit codes: 0 success, 1 the work failed, 2 bad input or configuration, 3 cancelled, 4 completed
 * with failures within the tolerated threshold. README "Exit codes".
 */
export const EXIT = { ok: 0, failed: 1, input: 2, cancelled: 3, partial: 4 } as const;

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

/** A failure as the server records it, its causes chained; an application failure has a type. */
export interface FailureChain {
  kind: string;
  message: string;
  type?: string;
  details?: unknown[];
  cause?: FailureChain;
}

/** How the dispatch's workflow closed: its close event, or what the SDK's `result()` made of it. */
export type DispatchClose =
  | { kind: 'completed'; result: unknown }
  | { kind: 'failed'; failure: FailureChain }
  | { kind: 'cancelled' }
  | { kind: 'terminated'; reason: string }
  /** The server's close event says no more than that; the SDK names it in a message. */
  | { kind: 'timed_out'; message?: string };

/** What the server answered: whether the dispatch runs, how it closed, its progress if queried. */
export type DispatchAnswer =
  | { running: true; progress?: DispatchProgress }
  | { running: false; close: DispatchClose; progress?: DispatchProgress; closedAt?: number };

export function resultOutcome(result: DispatchResult): Outcome {
  return {
    status: result.phase === 'completed_with_failures' ? 'completed_with_failures' : 'completed',
    progress: result,
  };
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

/** The innermost cause of an error: the message that says what went wrong. */
export function rootCause(err: Error): Error {
  let current = err;
  while (current.cause instanceof Error) current = current.cause;
  return current;
}

/** How a closed dispatch ended. A failure it did not raise itself is told by its innermost cause. */
export function closedOutcome(close: DispatchClose): Outcome {
  switch (close.kind) {
    case 'completed':
      return resultOutcome(close.result as DispatchResult);
    case 'cancelled':
      return { status: 'cancelled' };
    case 'terminated':
      return {
        status: 'terminated',
        error: close.reason || 'Workflow execution terminated',
        errorType: undefined,
      };
    case 'timed_out':
      return {
        status: 'timed_out',
        error: close.message ?? 'Workflow execution timed out',
        errorType: undefined,
      };
    case 'failed': {
      if (close.failure.kind === 'application') return raisedOutcome(close.failure);
      let root = close.failure;
      while (root.cause) root = root.cause;
      return {
        status: 'failed',
        error: root.message,
        errorType: root.kind === 'application' ? root.type : undefined,
      };
    }
  }
}

/**
 * Where a dispatch stands. A closed one that carries no progress in how it closed (cancelled,
 * terminated, failed on the way) takes the progress its workflow answered to a query.
 */
export function currentOutcome(answer: DispatchAnswer): Outcome {
  if (answer.running) return { status: 'running', progress: answer.progress };
  const ended = closedOutcome(answer.close);
  return { ...ended, progress: ended.progress ?? answer.progress, endedAt: answer.closedAt };
}

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

/** A dispatch that failed before it had a plan failed on what it was asked: its summary is an error. */
export function failedBeforePlanning(outcome: Outcome): boolean {
  return !outcome.progress?.plan && ['failed', 'terminated', 'timed_out'].includes(outcome.status);
}

/** Seconds from the start of the dispatch to its end, or to now while it runs. */
export function elapsedSeconds(outcome: Outcome, now = Date.now()): number {
  if (!outcome.progress) return 0;
  return Math.max(0, ((outcome.endedAt ?? now) - outcome.progress.started_at) / 1000);
}

export function tasksPerSecond(outcome: Outcome, now = Date.now()): number {
  const seconds = elapsedSeconds(outcome, now);
  return outcome.progress && seconds > 0 ? outcome.progress.tasks_finished / seconds : 0;
}
