import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { dispatchNotice, durationText, type DispatchEnd } from '../../src/activities/notify';

const end = (over: Partial<DispatchEnd['progress']> = {}): DispatchEnd => ({
  target: 'd1',
  status: 'failed',
  error: '3 of 10 tasks failed',
  ended_at: Date.UTC(2026, 0, 1, 1, 2, 5),
  progress: {
    dispatch_id: 'd1',
    phase: 'failed',
    settings: { num_parallel_workers: 4, tasks_per_job: 1, dry_run: false, force: false, priority: 1 },
    analysis_names: ['Unit Yield'],
    paused: false,
    running: 0,
    jobs_started: 10,
    counts: { succeeded: 6, skipped: 1, changed_code: 0, failed: 3, cancelled: 0, jobs_finished: 10 },
    tasks_finished: 10,
    failures: [
      { hash: 'a1', asset_name: 'asset_0001', error: 'no file at /data/asset_0001/units.csv' },
      { hash: 'a2', asset_name: 'asset_0002', error: 'no file at /data/asset_0002/units.csv' },
      { hash: 'a3', asset_name: 'asset_0003', error: 'exit code 137' },
    ],
    started_at: Date.UTC(2026, 0, 1, 0, 0, 0),
    runs: 1,
    plan: {
      tasks_to_run: 10,
    } as DispatchEnd['progress']['plan'],
    ...over,
  },
});

describe('notify', () => {
  test('dispatchNotice: one line of text, the counts, the failures by cause, the report command', () => {
    const notice = dispatchNotice(end(), 'http://ui/d1');
    assert.equal(
      notice.text,
      'dispatch d1 (Unit Yield) failed: 6 succeeded, 3 failed, 1 skipped of 10 tasks in 1 h 2 min; ' +
        'most failures: no file at <path>. Report: analysis report d1 --out report-d1.html',
    );
    assert.ok(!notice.text.includes('\n'));
    assert.deepEqual(notice.counts, { succeeded: 6, skipped: 1, changed_code: 0, failed: 3, cancelled: 0 });
    assert.equal(notice.elapsed_s, 3725);
    assert.equal(notice.failure_groups?.groups[0]?.count, 2);
    assert.deepEqual(notice.failure_groups?.groups[0]?.example_assets, ['asset_0001', 'asset_0002']);
    assert.equal(notice.report_command, 'analysis report d1 --out report-d1.html');
    assert.equal(notice.priority, 1);
    assert.equal(notice.error, '3 of 10 tasks failed');
  });

  test('durationText', () => {
    assert.equal(durationText(12.4), '12 s');
    assert.equal(durationText(245), '4 min 5 s');
    assert.equal(durationText(3 * 3600 + 12 * 60), '3 h 12 min');
  });
});
