import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import {
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  RetryState,
  TerminatedFailure,
  TimeoutFailure,
  TimeoutType,
} from '@temporalio/common';
import { ErrorType } from '../../src/errors';
import { failureClose } from '../../src/client/follow/reads';
import {
  closedOutcome,
  currentOutcome,
  elapsedSeconds,
  exitCodeOf,
  failedBeforePlanning,
  resultOutcome,
  tasksPerSecond,
  type Outcome,
} from '../../src/dispatch-outcome';
import { progress } from '../fixtures/dispatch-progress';

/** The outcome of a dispatch whose result threw `err`, as the SDK path reads it. */
const failureOutcome = (err: WorkflowFailedError) => closedOutcome(failureClose(err));

const failedWith = (cause: Error) =>
  new WorkflowFailedError('Workflow execution failed', cause, RetryState.NON_RETRYABLE_FAILURE);

describe('dispatch-outcome', () => {
  test('resultOutcome tells a full success from one with tolerated failures', () => {
    assert.equal(
      resultOutcome({ ...progress({ phase: 'completed' }), dry_run_outputs: [] }).status,
      'completed',
    );
    assert.equal(
      resultOutcome({ ...progress({ phase: 'completed_with_failures' }), dry_run_outputs: [] }).status,
      'completed_with_failures',
    );
  });

  test('failureClose reads cancellation, the failure the workflow raised, termination and timeout', () => {
    const details = progress({ phase: 'failed' });
    const raised = failureOutcome(
      failedWith(
        ApplicationFailure.create({
          type: ErrorType.FailureThresholdExceeded,
          message: '2 of 8 tasks failed',
          details: [details],
        }),
      ),
    );
    assert.deepEqual(raised, {
      status: 'failed',
      progress: details,
      error: '2 of 8 tasks failed',
      errorType: ErrorType.FailureThresholdExceeded,
    });
    assert.deepEqual(failureOutcome(failedWith(new CancelledFailure('Workflow canceled'))), {
      status: 'cancelled',
    });
    // A terminate reason replaces the client's "Workflow execution terminated" message.
    const terminated = new WorkflowFailedError(
      'killed by an operator',
      new TerminatedFailure('killed by an operator'),
      RetryState.NON_RETRYABLE_FAILURE,
    );
    assert.deepEqual(failureOutcome(terminated), {
      status: 'terminated',
      error: 'killed by an operator',
      errorType: undefined,
    });
    const timedOut = failedWith(new TimeoutFailure('timed out', undefined, TimeoutType.START_TO_CLOSE));
    assert.equal(failureOutcome(timedOut).status, 'timed_out');
  });

  test('failureClose names the innermost cause of a failure the workflow did not raise itself', () => {
    const inner = ApplicationFailure.create({
      type: ErrorType.InvalidInput,
      message: 'query matched no assets',
    });
    const outcome = failureOutcome(
      failedWith(
        new ActivityFailure(
          'activity failed',
          'planDispatch',
          '1',
          RetryState.NON_RETRYABLE_FAILURE,
          'w',
          inner,
        ),
      ),
    );
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.error, 'query matched no assets');
    assert.equal(outcome.errorType, ErrorType.InvalidInput);
  });

  test('closedOutcome reads each way a dispatch closes', () => {
    const done = progress({ phase: 'completed' });
    assert.deepEqual(closedOutcome({ kind: 'completed', result: done }), {
      status: 'completed',
      progress: done,
    });
    assert.deepEqual(closedOutcome({ kind: 'cancelled' }), { status: 'cancelled' });
    assert.deepEqual(closedOutcome({ kind: 'terminated', reason: '' }), {
      status: 'terminated',
      error: 'Workflow execution terminated',
      errorType: undefined,
    });
    assert.deepEqual(closedOutcome({ kind: 'timed_out' }), {
      status: 'timed_out',
      error: 'Workflow execution timed out',
      errorType: undefined,
    });
    const raised = { kind: 'application', message: 'stop', type: ErrorType.TasksFailed, details: [done] };
    assert.deepEqual(closedOutcome({ kind: 'failed', failure: raised }), {
      status: 'failed',
      progress: done,
      error: 'stop',
      errorType: ErrorType.TasksFailed,
    });
    const wrapped = {
      kind: 'activity',
      message: 'activity failed',
      cause: { ...raised, details: undefined },
    };
    assert.deepEqual(closedOutcome({ kind: 'failed', failure: wrapped }), {
      status: 'failed',
      error: 'stop',
      errorType: ErrorType.TasksFailed,
    });
  });

  test('currentOutcome: a running dispatch, and a closed one with the progress it carried or answered', () => {
    const run = progress({ phase: 'running' });
    assert.deepEqual(currentOutcome({ running: true, progress: run }), { status: 'running', progress: run });
    const done = progress({ phase: 'completed' });
    assert.deepEqual(
      currentOutcome({
        running: false,
        close: { kind: 'completed', result: done },
        progress: run,
        closedAt: 9,
      }),
      { status: 'completed', progress: done, endedAt: 9 },
    );
    assert.deepEqual(
      currentOutcome({ running: false, close: { kind: 'cancelled' }, progress: run, closedAt: 9 }),
      {
        status: 'cancelled',
        progress: run,
        endedAt: 9,
      },
    );
  });

  test('exitCodeOf follows README "Exit codes"', () => {
    const cases: Array<[Outcome, number]> = [
      [{ status: 'completed' }, 0],
      [{ status: 'running' }, 0],
      [{ status: 'failed', errorType: ErrorType.TasksFailed }, 1],
      [{ status: 'failed', errorType: ErrorType.FailureThresholdExceeded }, 1],
      [{ status: 'failed' }, 1],
      [{ status: 'terminated' }, 1],
      [{ status: 'timed_out' }, 1],
      [{ status: 'failed', errorType: ErrorType.InvalidInput }, 2],
      [{ status: 'cancelled' }, 3],
      [{ status: 'completed_with_failures' }, 4],
    ];
    for (const [outcome, code] of cases) assert.equal(exitCodeOf(outcome), code, JSON.stringify(outcome));
  });

  test('failedBeforePlanning: only a dispatch that failed without a plan', () => {
    assert.equal(failedBeforePlanning({ status: 'failed', error: 'no assets' }), true);
    assert.equal(failedBeforePlanning({ status: 'terminated' }), true);
    assert.equal(failedBeforePlanning({ status: 'failed', progress: progress({}) }), false);
    assert.equal(
      failedBeforePlanning({ status: 'cancelled', progress: progress({ plan: undefined }) }),
      false,
    );
    assert.equal(failedBeforePlanning({ status: 'running', progress: progress({ plan: undefined }) }), false);
  });
  test('elapsedSeconds stops at the close of a dispatch and counts on while it runs', () => {
    const run = progress({ started_at: 10_000 });
    assert.equal(elapsedSeconds({ status: 'completed', progress: run, endedAt: 14_000 }, 1_000_000), 4);
    assert.equal(elapsedSeconds({ status: 'running', progress: run }, 12_500), 2.5);
    assert.equal(elapsedSeconds({ status: 'failed' }, 12_500), 0);
  });

  test('tasksPerSecond is the finished tasks over the elapsed time, 0 before any time passed', () => {
    const run = progress({ started_at: 0, tasks_finished: 8 });
    assert.equal(tasksPerSecond({ status: 'completed', progress: run, endedAt: 4_000 }), 2);
    assert.equal(tasksPerSecond({ status: 'running', progress: run }, 0), 0);
    assert.equal(tasksPerSecond({ status: 'failed' }), 0);
  });
});
