import assert from 'node:assert/strict';
import { describe, mock, test } from 'node:test';
import { ErrorType } from '../../src/errors';
import {
  barFigures,
  outcomeJson,
  phaseLine,
  planLines,
  reportOutcome,
  summaryText,
} from '../../src/client/follow/summary';
import { plan, progress } from '../fixtures/dispatch-progress';

const view = { dispatchId: 'd1', url: 'http://ui/namespaces/default/workflows/dispatch-d1', json: false };

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

describe('summary', () => {
  test('planLines counts the tasks and says why some are skipped', () => {
    assert.deepEqual(planLines(plan), [
      '8 tasks from 4 assets: 8 new, 0 already done, 0 done by different code',
      '8 to run in 8 jobs',
    ]);
    const capped = planLines({
      ...plan,
      capped_from: 20,
      tasks_changed_code: 1,
      warnings: ['id x matched nothing'],
    });
    assert.ok(
      capped.includes(
        '12 of 20 tasks to run left out by --max_number_of_tasks_dispatched 8; a rerun moves on to them',
      ),
    );
    assert.ok(capped.some((line) => line.includes('bump analysis_version or pass --force')));
    assert.ok(
      planLines({ ...plan, tasks_changed_inputs: 2 }).includes(
        '2 done tasks have an input that changed since their record',
      ),
    );
    assert.equal(planLines({ ...plan, tasks_changed_inputs: 0 }).length, 2);
    assert.equal(capped.at(-1), 'warning: id x matched nothing');
  });

  test('barFigures waits for the plan', () => {
    assert.equal(barFigures(progress({ plan: undefined, phase: 'planning' })), undefined);
    assert.deepEqual(barFigures(progress({ running: 2, tasks_finished: 5 })), {
      total: 8,
      finished: 5,
      running: 2,
      failed: 2,
    });
  });

  test('phaseLine says where a dispatch stands', () => {
    assert.equal(
      phaseLine(progress({ running: 3, tasks_finished: 5 })),
      'phase running: 5/8 tasks finished, 3 of 4 jobs running',
    );
    assert.match(phaseLine(progress({ phase: 'planning', plan: undefined })), /^phase planning: 8\/\? tasks/);
  });

  test('summaryText: the status line, the counts with time and rate, the failures named', () => {
    const text = summaryText(
      {
        status: 'failed',
        error: '3 of 8 tasks failed',
        progress: progress({
          started_at: 0,
          tasks_finished: 8,
          counts: { ...progress({}).counts, failed: 3 },
        }),
        endedAt: 4_000,
      },
      'd1',
    );
    const lines = text.split('\n');
    assert.equal(lines[0], 'dispatch d1 failed: 3 of 8 tasks failed');
    assert.match(text, /succeeded .* failed .* elapsed .* rate/);
    assert.match(text, /│ 6 +│ 0 +│ 0 +│ 3 +│ 0 +│ 4\.0 s +│ 2\.00 tasks\/s │/);
    assert.match(text, /abababababab .* poison_0000 .* poisoned task: fail is true/);
    assert.equal(lines.at(-1), '... and 2 more failed tasks');
    assert.ok(!text.includes('\u001b['), 'not a terminal here: no colour codes');
  });

  test('summaryText fits 120 columns, however long the names and errors of its failures', () => {
    const failure = {
      hash: 'cd'.repeat(32),
      asset_name: `behavior_741213_2024-03-02_10-00-00_processed_2024-03-03_08-30-00,${'x'.repeat(200)}`,
      error: `analysis failed: ${'Traceback (most recent call last): '.repeat(40)}`,
    };
    const base = progress({ counts: { ...progress({}).counts, failed: 3 } });
    const text = summaryText(
      { status: 'failed', error: 'e', progress: { ...base, failures: [failure] }, endedAt: 4_000 },
      'd1',
    );
    for (const line of text.split('\n')) assert.ok(line.length <= 120, `${line.length}: ${line}`);
    assert.match(text, /│ cdcdcdcdcdcd +│ behavior_741213/);
  });

  test('summaryText of a dispatch that failed before it planned is its one status line', () => {
    assert.equal(
      summaryText({ status: 'failed', error: 'query matched no assets' }, 'd2'),
      'dispatch d2 failed: query matched no assets',
    );
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
