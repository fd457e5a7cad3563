import assert from 'node:assert/strict';
import { describe, mock, test } from 'node:test';
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
import { failureOutcome } from '../../src/client/failure-outcome';
import {
  failedBeforePlanning,
  exitCodeOf,
  outcomeJson,
  reportOutcome,
  resultOutcome,
  type Outcome,
} from '../../src/client/outcome';
import { progress } from '../fixtures/dispatch-progress';

const view = { dispatchId: 'd1', url: 'http://ui/namespaces/default/workflows/dispatch-d1', json: false };

const failedWith = (cause: Error) =>
  new WorkflowFailedError('Workflow execution failed', cause, RetryState.NON_RETRYABLE_FAILURE);

/** Runs `body` with console.log and console.error captured. */
function captured(body: () => number): { code: number; stdout: string; stderr: string } {
  const log = mock.method(console, 'log', () => undefined);
  const error = mock.method(console, 'error', () => undefined);
  try {
    const code = body();
    const text = (calls: typeof log.mock.calls) => calls.map((call) => call.arguments.join(' ')).join('\n');
    return { code, stdout: text(log.mock.calls), stderr: text(error.mock.calls) };
  } finally {
    log.mock.restore();
    error.mock.restore();
  }
}

describe('outcome', () => {
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

  test('failureOutcome reads cancellation, the failure the workflow raised, termination and timeout', () => {
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

  test('failureOutcome names the innermost cause of a failure the workflow did not raise itself', () => {
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

  test('outcomeJson is one shape for every command, time and rate included', () => {
    const run = progress({ phase: 'completed', started_at: 1_000, tasks_finished: 8 });
    const json = outcomeJson({ status: 'completed', progress: run, endedAt: 5_000 }, view, 99_000);
    assert.deepEqual(json, {
      dispatch_id: 'd1',
      url: view.url,
      status: 'completed',
      error: undefined,
      error_type: undefined,
      elapsed_s: 4,
      tasks_per_s: 2,
      progress: run,
    });
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

  test('reportOutcome prints the summary where it belongs and answers the exit code', () => {
    const partial = captured(() =>
      reportOutcome(
        { status: 'completed_with_failures', progress: progress({ phase: 'completed_with_failures' }) },
        view,
      ),
    );
    assert.equal(partial.code, 4);
    assert.match(partial.stdout, /^dispatch d1 completed_with_failures/);
    assert.equal(partial.stderr, '');

    const bad = captured(() =>
      reportOutcome(
        { status: 'failed', error: 'query matched no assets', errorType: ErrorType.InvalidInput },
        view,
      ),
    );
    assert.equal(bad.code, 2);
    assert.equal(bad.stdout, '');
    assert.equal(bad.stderr, 'dispatch d1 failed: query matched no assets');

    const json = captured(() =>
      reportOutcome({ status: 'failed', errorType: ErrorType.InvalidInput }, { ...view, json: true }),
    );
    assert.equal(json.code, 2);
    assert.equal(JSON.parse(json.stdout).error_type, ErrorType.InvalidInput);
    assert.equal(json.stderr, '');
  });
});
