import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { before, describe, test } from 'node:test';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { bundleWorkflows, useQuietRuntime } from './helpers/server';

const TEST = join(__dirname, '..');
/** Folders of saved histories, each with a workflow-ids.json naming the workflow id of each file. */
const FOLDERS = [join(TEST, 'histories'), join(TEST, 'fixtures', 'histories')];
const IDS = 'workflow-ids.json';

interface SavedHistory {
  /** Path under test/, as the failures name it. */
  name: string;
  workflowId: string | undefined;
  history: unknown;
}

function savedHistories(): SavedHistory[] {
  return FOLDERS.flatMap((folder) => {
    const ids = JSON.parse(readFileSync(join(folder, IDS), 'utf8')) as Record<string, string>;
    return readdirSync(folder)
      .filter((file) => file.endsWith('.json') && file !== IDS)
      .sort()
      .map((file) => ({
        name: relative(TEST, join(folder, file)),
        workflowId: ids[file],
        history: JSON.parse(readFileSync(join(folder, file), 'utf8')),
      }));
  });
}

/**
 * The history of a dispatch that the fault suite's worker kill left stuck on its first run: a
 * nondeterminism error ("No command scheduled for event 141, StartChildWorkflowExecutionInitiated")
 * failed every workflow task from event 162 on, so the dispatch never finished.
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
 * replays, and a dispatch stuck this way resumes once its workers run the current code.
 */
const STUCK_AFTER_WORKER_KILL = join(
  'fixtures',
  'histories',
  'dispatch-nondeterminism-after-worker-kill.json',
);

/**
 * A job of the last shape before the one-marker shape (it marked each of its changes on its own):
 * kept to prove that shape is retired, not replayed as a supported one.
 */
const RETIRED_JOB = join(TEST, 'fixtures', 'retired-histories', 'v4-job-0.json');
const RETIRED_JOB_ID = 'dispatch-20261205-060534-6519-job-0';

describe('replay of saved histories', () => {
  const histories = savedHistories();
  let bundle: WorkflowBundle;
  before(async () => {
    bundle = await bundleWorkflows();
    useQuietRuntime();
  });

  test('there are saved histories of a dispatch and of a job', () => {
    assert.ok(histories.some((saved) => saved.name.includes('dispatch-')));
    assert.ok(histories.some((saved) => saved.name.includes('job-')));
    assert.ok(histories.some((saved) => saved.name === STUCK_AFTER_WORKER_KILL));
  });

  test('every saved history has its workflow id in its folder’s workflow-ids.json', () => {
    // Workflow code derives its children's ids from its own: a history replays under its own id only.
    const missing = histories.filter((saved) => !saved.workflowId).map((saved) => saved.name);
    assert.deepEqual(missing, [], `add these to workflow-ids.json: ${missing.join(', ')}`);
  });

  test('every saved history replays on the current workflow code', async () => {
    const replayed = histories.filter((saved) => saved.workflowId);
    const results = Worker.runReplayHistories(
      { workflowBundle: bundle, replayName: 'saved-histories' },
      replayed.map((saved) => ({ workflowId: saved.workflowId!, history: saved.history })),
    );
    // One history at a time, in the order given: the results line up with the files.
    const failures: string[] = [];
    let count = 0;
    for await (const result of results) {
      const { name } = replayed[count++]!;
      if (result.error instanceof DeterminismViolationError)
        failures.push(
          `${name}: the workflow code no longer replays this history (${result.error.message}); keep old paths behind patched() or record new histories on purpose`,
        );
      else if (result.error) failures.push(`${name}: ${result.error.message}`);
    }
    assert.equal(count, replayed.length);
    assert.deepEqual(failures, []);
  });

  test('a changed copy of the job workflow is reported as nondeterministic', async () => {
    const changed = await bundleWorkflows(require.resolve('./fixtures/job-uploads-after-run'));
    const saved = histories.find((history) => history.name === join('histories', 'v5-job-0.json'))!;
    await assert.rejects(
      Worker.runReplayHistory(
        { workflowBundle: changed, replayName: 'changed-job' },
        saved.history,
        saved.workflowId,
      ),
      // The history goes from the run to the report; the changed code schedules the upload there.
      (err: unknown) =>
        err instanceof DeterminismViolationError && /SignalExternalWorkflowExecution/.test(err.message),
    );
  });

  test('a job of a retired shape no longer replays', async () => {
    // Its markers name the changes the current shape replaced: the job now checks none of them.
    const history: unknown = JSON.parse(readFileSync(RETIRED_JOB, 'utf8'));
    await assert.rejects(
      Worker.runReplayHistory({ workflowBundle: bundle, replayName: 'retired-job' }, history, RETIRED_JOB_ID),
      (err: unknown) =>
        err instanceof DeterminismViolationError &&
        /patch marker .* job-local-database-steps/.test(err.message),
    );
  });
});
