import type * as Common from '@temporalio/common';
import type { ApplicationFailure } from '@temporalio/common';

/** Failure types carried by non-retryable Temporal failures; tests assert on them. */
export enum ErrorType {
  InvalidInput = 'InvalidInput',
  InvalidParameters = 'InvalidParameters',
  InvalidOutputs = 'InvalidOutputs',
  UnknownAnalysis = 'UnknownAnalysis',
  CommandNotFound = 'CommandNotFound',
  /** A dispatch spec gave a command to a worker that runs only registered analyses. */
  SpecCommandRefused = 'SpecCommandRefused',
  AnalysisFailed = 'AnalysisFailed',
  /** A container analysis's image is neither on its worker nor pullable. */
  ImageNotFound = 'ImageNotFound',
  /** A container analysis was killed for passing its memory limit: a retry would be killed again. */
  OutOfMemory = 'OutOfMemory',
  /** A bare command analysis sent to a worker that runs analyses only in containers. */
  ContainerRequired = 'ContainerRequired',
  UnsafeResults = 'UnsafeResults',
  /**
   * A task whose stored hash or location is not the one its own fields give: a worker refuses it
   * before it uploads, removes or writes anything.
   */
  TaskIdentityMismatch = 'TaskIdentityMismatch',
  /** The worker's work folder is not its own (a symlink, another user's, writable by others). */
  UnsafeWorkRoot = 'UnsafeWorkRoot',
  /**
   * Every run slot of an analysis with `max_concurrent` is held: the job waits, then asks again.
   * Not a failure of the task.
   */
  AnalysisAtCapacity = 'AnalysisAtCapacity',
  /** A run's files are gone from its worker before they were uploaded: the task runs again. */
  ResultsLost = 'ResultsLost',
  /** More tasks failed than the dispatch tolerates: it stopped starting jobs. */
  FailureThresholdExceeded = 'FailureThresholdExceeded',
  /** Tasks failed and the dispatch tolerates none. */
  TasksFailed = 'TasksFailed',
  /** The notification endpoint refused the message (a 4xx answer): sending it again would not help. */
  NotificationRefused = 'NotificationRefused',
}

/** A mistake in what the user asked for: shown as is, exit code 2, nothing written. */
export class InputError extends Error {
  override name = 'InputError';
}

/** A bad environment variable: named, never its value (which may be a secret); exit code 2. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function nonRetryable(type: ErrorType, message: string, cause?: Error): ApplicationFailure {
  // Loaded on first use: every CLI command loads this module, and most never build a failure.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ApplicationFailure: Failure } = require('@temporalio/common') as typeof Common;
  return Failure.create({ type, message, nonRetryable: true, cause });
}

/** Turns an InputError thrown by shared code into a failure that Temporal will not retry. */
export function asActivityFailure(err: unknown): unknown {
  if (err instanceof InputError) return nonRetryable(ErrorType.InvalidInput, err.message);
  return err;
}
