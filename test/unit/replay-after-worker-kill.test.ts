import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Worker } from '@temporalio/worker';
import { ROOT } from '../helpers/stack';

/**
 * The history of a dispatch that worker-kill.test.ts left stuck on its first run: a nondeterminism
 * error ("No command scheduled for event 141, StartChildWorkflowExecutionInitiated") failed every
 * workflow task from event 162 on, so the dispatch never finished.
 *
 * How it came about: the worker holding the dispatch's sticky queue was killed while a workflow
 * task was scheduled on that queue (events 102-113), and progress queries (dispatch --wait polls
 * one a second) went meanwhile to another worker. That worker rebuilt the workflow from a history
 * ending in signals that no workflow task had taken yet (events 101-105), and the SDK ran the
 * workflow code over them: three jobs had reported, so the loop started three new ones and then
 * waited, in `await Promise.all(startJob...)`, for their starts to be confirmed. The real task
 * (event 115) completed on that cached state with those three starts (117-119) while three more
 * slots had been freed; a later replay from history sees all six reports at once and starts six,
 * and its starts fall behind the recorded ones at event 141. Replaying the history cut after
 * event 105 shows the three-start decision; cut after 115, the six-start one.
 *
 * The dispatch loop no longer waits for start confirmations, so the commands it issues depend
 * only on the reports it has seen, however they were batched into workflow tasks; this history
 * replays, and a dispatch stuck this way resumes once its workers run the current code. It runs
 * with the unit tests, so a change that brings the old behaviour back fails every test run.
 */
describe('replay of a dispatch stuck after a worker kill', () => {
  test('the stuck history replays on the current workflow code', async () => {
    const history = JSON.parse(
      readFileSync(
        join(ROOT, 'test', 'fixtures', 'histories', 'dispatch-nondeterminism-after-worker-kill.json'),
        'utf8',
      ),
    );
    await Worker.runReplayHistory(
      { workflowsPath: require.resolve('../../src/workflows'), replayName: 'stuck-after-worker-kill' },
      history,
      'dispatch-20261122-110635-4bfc',
    );
  });
});
