import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DispatchRequest, PlanSummary } from '../../src/types';
import {
  allowedFailures,
  applyReport,
  detailsLine,
  ending,
  finishJob,
  jobsToStart,
  jobTaskCount,
  lostJobReport,
  progressView,
  settingsOf,
  startedJobs,
  startState,
} from '../../src/workflows/dispatch-rules';
import type { JobReport, PlannedState, TaskCounts } from '../../src/workflows/messages';

const plan = (tasks: number, jobs = tasks): PlanSummary => ({
  plan_id: 'p',
  assets: tasks,
  assets_without_location: 0,
  assets_without_files: 0,
  tasks_total: tasks,
  tasks_new: tasks,
  tasks_done: 0,
  tasks_changed_code: 0,
  tasks_to_run: tasks,
  jobs,
  jobs_per_page: 100,
  warnings: [],
});

const request: DispatchRequest = {
  query: {},
  asset_id_field: '_id',
  split_files: true,
  group_by: [],
  specs: [
    { analysis_name: 'A', analysis_version: '1', analysis_libraries: [], analysis_parameters: {} },
    { analysis_name: 'A', analysis_version: '2', analysis_libraries: [], analysis_parameters: {} },
    { analysis_name: 'B', analysis_version: '1', analysis_libraries: [], analysis_parameters: {} },
  ],
  fixed_parameters: {},
  distributed_parameters: [],
  tasks_per_job: 1,
  num_parallel_workers: 3,
  dry_run: false,
  force: false,
};

function state(tasks: number, tolerance: Partial<DispatchRequest> = {}): PlannedState {
  const start = startState({ kind: 'new', dispatchId: 'd', request: { ...request, ...tolerance } }, 0);
  return { ...start, phase: 'running', plan: plan(tasks) };
}

const report = (
  jobIndex: number,
  counts: Partial<TaskCounts> = {},
  failures: JobReport['failures'] = [],
): JobReport => ({
  job_index: jobIndex,
  counts: { succeeded: 0, skipped: 0, changed_code: 0, failed: 0, cancelled: 0, ...counts },
  failures,
  dry_run_outputs: [],
});

describe('dispatch rules', () => {
  test('settingsOf keeps only the settings of a request', () => {
    assert.deepEqual(settingsOf({ ...request, tolerated_failure_count: 2 }), {
      num_parallel_workers: 3,
      tasks_per_job: 1,
      dry_run: false,
      force: false,
      tolerated_failure_count: 2,
    });
  });

  test('startState: a dispatch starts planning, with the settings and names its input carries', () => {
    const settings = settingsOf({ ...request, num_parallel_workers: 7 });
    const stored = startState(
      { kind: 'stored', dispatchId: 'd', request_id: 'r', settings, analysis_names: ['A'] },
      5,
    );
    assert.equal(stored.phase, 'planning');
    assert.equal(stored.plan, undefined);
    assert.deepEqual(stored.settings, settings);
    assert.deepEqual(stored.analysis_names, ['A']);
    assert.deepEqual(stored.running, {});
    assert.equal(stored.started_at, 5);
    const fresh = startState({ kind: 'new', dispatchId: 'd', request }, 0);
    assert.deepEqual(fresh.analysis_names, ['A', 'B']);
    assert.equal(fresh.retry_of, undefined);
    const retry = startState(
      { kind: 'retry', dispatchId: 'd', retry_of: 'c', settings, analysis_names: ['A'] },
      0,
    );
    assert.equal(retry.retry_of, 'c');
  });

  test('allowedFailures takes the stricter of percent and count, none means none limited', () => {
    assert.equal(allowedFailures(settingsOf(request), 100), Infinity);
    assert.equal(allowedFailures(settingsOf({ ...request, tolerated_failure_percent: 10 }), 55), 5);
    assert.equal(
      allowedFailures(
        settingsOf({ ...request, tolerated_failure_percent: 10, tolerated_failure_count: 2 }),
        100,
      ),
      2,
    );
    assert.equal(allowedFailures(settingsOf({ ...request, tolerated_failure_count: 0 }), 100), 0);
  });

  test('applyReport adds counts and stops the dispatch once failures pass the tolerance', () => {
    const s = state(10, { tolerated_failure_count: 1 });
    applyReport(s, report(0, { succeeded: 2, changed_code: 1, failed: 1 }));
    assert.equal(s.stop_reason, undefined);
    assert.deepEqual(s.counts, {
      succeeded: 2,
      skipped: 0,
      changed_code: 1,
      failed: 1,
      cancelled: 0,
      jobs_finished: 1,
    });
    applyReport(s, report(1, { failed: 1 }, [{ hash: 'h', asset_name: 'a', error: 'boom' }]));
    assert.equal(s.stop_reason, '2 tasks failed, more than the 1 tolerated');
    assert.equal(s.failures.length, 1);
  });

  test('applyReport keeps at most 50 failures however many jobs report', () => {
    const s = state(1000, { tolerated_failure_percent: 100 });
    const failures = Array.from({ length: 30 }, (_, i) => ({ hash: `${i}`, asset_name: 'a', error: 'e' }));
    for (let job = 0; job < 3; job++) applyReport(s, report(job, { failed: 30 }, failures));
    assert.equal(s.failures.length, 50);
    assert.equal(s.counts.failed, 90);
  });

  test('jobsToStart fills the window, within the jobs left and the starts left in this run', () => {
    const s = state(10);
    assert.equal(jobsToStart(s, 400), 3);
    s.running = { 0: 'job-0', 1: 'job-1' };
    assert.equal(jobsToStart(s, 400), 1);
    s.running = {};
    assert.equal(jobsToStart(s, 2), 2);
    s.next_job = 9;
    assert.equal(jobsToStart(s, 400), 1);
    s.settings.num_parallel_workers = 1;
    s.running = { 6: 'job-6', 7: 'job-7', 8: 'job-8' };
    assert.equal(jobsToStart(s, 400), 0, 'a lowered window starts nothing until jobs finish');
    s.running = {};
    s.paused = true;
    s.settings.num_parallel_workers = 5;
    assert.equal(jobsToStart(s, 400), 0, 'paused');
    s.paused = false;
    s.stop_reason = 'too many failures';
    assert.equal(jobsToStart(s, 400), 0, 'stopped');
  });

  test('jobTaskCount: full jobs of tasks_per_job, the last one smaller', () => {
    const s = state(7);
    s.settings.tasks_per_job = 3;
    assert.deepEqual(
      [0, 1, 2, 3].map((job) => jobTaskCount(s, job)),
      [3, 3, 1, 0],
    );
  });

  test('ending: fails past the tolerance or with untolerated failures, else completes', () => {
    const ok = state(2);
    assert.deepEqual(ending(ok), { phase: 'completed' });
    const untolerated = state(2);
    untolerated.counts.failed = 1;
    assert.equal(ending(untolerated).phase, 'failed');
    assert.equal((ending(untolerated) as { type: string }).type, 'TasksFailed');
    const tolerated = state(2, { tolerated_failure_count: 1 });
    tolerated.counts.failed = 1;
    assert.deepEqual(ending(tolerated), { phase: 'completed_with_failures' });
    const stopped = state(10, { tolerated_failure_count: 0 });
    stopped.next_job = 4;
    applyReport(stopped, report(0, { failed: 1 }));
    const end = ending(stopped);
    assert.equal(end.phase, 'failed');
    assert.equal((end as { type: string }).type, 'FailureThresholdExceeded');
    assert.match((end as { message: string }).message, /6 jobs were not started/);
  });

  test('progressView answers from the state, before it has planned and after', () => {
    const planning = progressView('d', startState({ kind: 'new', dispatchId: 'd', request }, 5));
    assert.equal(planning.phase, 'planning');
    assert.equal(planning.plan, undefined);
    assert.equal(planning.settings.num_parallel_workers, 3);
    assert.deepEqual(planning.analysis_names, ['A', 'B']);
    assert.equal(planning.started_at, 5);
    assert.equal(planning.running, 0);
    const s = state(4);
    s.running = { 1: 'job-1', 2: 'job-2' };
    applyReport(s, report(0, { succeeded: 1, skipped: 1 }));
    const view = progressView('d', s);
    assert.equal(view.dispatch_id, 'd');
    assert.equal(view.tasks_finished, 2);
    assert.equal(view.running, 2);
    assert.equal(
      detailsLine(s),
      '2 of 4 tasks finished: 1 succeeded, 0 failed, 1 skipped; 2 of 3 jobs running',
    );
  });

  test('finishJob counts a running job once; a later report of it changes nothing', () => {
    const s = state(4);
    s.running = { 0: 'd-job-0', 1: 'd-job-1' };
    assert.equal(finishJob(s, report(0, { succeeded: 1 })), true);
    assert.equal(finishJob(s, report(0, { succeeded: 1 })), false);
    assert.deepEqual(s.running, { 1: 'd-job-1' });
    assert.deepEqual([s.counts.succeeded, s.counts.jobs_finished], [1, 1]);
  });

  test('lostJobReport fails every task of the job and says how it closed', () => {
    const s = state(5);
    s.settings.tasks_per_job = 2;
    s.running = { 2: 'd-job-2' };
    const lost = lostJobReport(s, 2, { workflowId: 'd-job-2', status: 'TIMED_OUT' });
    assert.equal(lost.counts.failed, 1);
    assert.equal(lost.failures[0]?.error, 'job d-job-2 closed without reporting (timed out)');
    assert.equal(finishJob(s, lost), true);
    assert.deepEqual([s.counts.failed, s.counts.jobs_finished, Object.keys(s.running).length], [1, 1, 0]);
  });

  test('startedJobs leaves out the jobs whose start is not confirmed', () => {
    const s = state(3);
    s.running = { 0: 'd-job-0', 1: 'd-job-1' };
    assert.deepEqual([...startedJobs(s, new Set([1]))], [['d-job-0', 0]]);
  });
});
