import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DispatchRequest, PlanSummary } from '../../src/types';
import {
  allowedFailures,
  applyReport,
  decodeDispatchInput,
  detailsLine,
  ending,
  initialState,
  jobsToStart,
  jobTaskCount,
  progressView,
  settingsOf,
  startOf,
  type LegacyDispatchInput,
} from '../../src/workflows/dispatch-rules';
import type { DispatchState, JobReport } from '../../src/workflows/messages';

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

function state(tasks: number, tolerance: Partial<DispatchRequest> = {}): DispatchState {
  return initialState(
    plan(tasks),
    startOf({ kind: 'new', dispatch_id: 'd', request: { ...request, ...tolerance } }),
    0,
  );
}

const report = (jobIndex: number, counts: Partial<JobReport> = {}): JobReport => ({
  jobIndex,
  succeeded: 0,
  skipped: 0,
  changedCode: 0,
  failed: 0,
  cancelled: 0,
  failures: [],
  dryRunOutputs: [],
  ...counts,
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

  test('startOf: a stored request starts with the settings and names its input carries', () => {
    const settings = settingsOf({ ...request, num_parallel_workers: 7 });
    assert.deepEqual(
      startOf({ kind: 'stored', dispatch_id: 'd', request_id: 'd', settings, analysis_names: ['A'] }),
      { settings, analysis_names: ['A'] },
    );
    const stored = {
      kind: 'stored' as const,
      dispatch_id: 'd',
      request_id: 'r',
      settings,
      analysis_names: [],
    };
    assert.equal(decodeDispatchInput(stored), stored);
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
    applyReport(s, report(0, { succeeded: 2, changedCode: 1, failed: 1 }));
    assert.equal(s.stop_reason, undefined);
    assert.deepEqual(s.counts, {
      succeeded: 2,
      skipped: 0,
      changed_code: 1,
      failed: 1,
      cancelled: 0,
      jobs_finished: 1,
    });
    applyReport(s, report(1, { failed: 1, failures: [{ hash: 'h', asset_name: 'a', error: 'boom' }] }));
    assert.equal(s.stop_reason, '2 tasks failed, more than the 1 tolerated');
    assert.equal(s.failures.length, 1);
  });

  test('applyReport keeps at most 50 failures however many jobs report', () => {
    const s = state(1000, { tolerated_failure_percent: 100 });
    const failures = Array.from({ length: 30 }, (_, i) => ({ hash: `${i}`, asset_name: 'a', error: 'e' }));
    for (let job = 0; job < 3; job++) applyReport(s, report(job, { failed: 30, failures }));
    assert.equal(s.failures.length, 50);
    assert.equal(s.counts.failed, 90);
  });

  test('jobsToStart fills the window, within the jobs left and the starts left in this run', () => {
    const s = state(10);
    assert.equal(jobsToStart(s, 0, 400), 3);
    assert.equal(jobsToStart(s, 2, 400), 1);
    assert.equal(jobsToStart(s, 0, 2), 2);
    s.next_job = 9;
    assert.equal(jobsToStart(s, 0, 400), 1);
    s.settings.num_parallel_workers = 1;
    assert.equal(jobsToStart(s, 3, 400), 0, 'a lowered window starts nothing until jobs finish');
    s.paused = true;
    s.settings.num_parallel_workers = 5;
    assert.equal(jobsToStart(s, 0, 400), 0, 'paused');
    s.paused = false;
    s.stop_reason = 'too many failures';
    assert.equal(jobsToStart(s, 0, 400), 0, 'stopped');
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

  test('progressView answers from the input while planning and from the state after', () => {
    const input = { kind: 'new' as const, dispatch_id: 'd', request };
    const planning = progressView({
      dispatchId: 'd',
      phase: 'planning',
      start: startOf(input),
      running: 0,
      now: 5,
    });
    assert.equal(planning.plan, undefined);
    assert.equal(planning.settings.num_parallel_workers, 3);
    assert.deepEqual(planning.analysis_names, ['A', 'B']);
    assert.equal(planning.started_at, 5);
    const s = state(4);
    applyReport(s, report(0, { succeeded: 1, skipped: 1 }));
    const view = progressView({
      dispatchId: 'd',
      phase: 'running',
      state: s,
      start: startOf(input),
      running: 2,
      now: 5,
    });
    assert.equal(view.tasks_finished, 2);
    assert.equal(view.running, 2);
    assert.equal(
      detailsLine(s, 2),
      '2 of 4 tasks finished: 1 succeeded, 0 failed, 1 skipped; 2 of 3 jobs running',
    );
  });

  test('decodeDispatchInput reads the inputs of earlier versions', () => {
    const legacyState: LegacyDispatchInput = {
      dispatchId: 'd',
      continueAsNewAfter: 2,
      state: {
        plan: plan(4),
        numParallelWorkers: 2,
        tasksPerJob: 1,
        tolerance: { count: 3 },
        paused: false,
        dryRun: false,
        force: true,
        analysisNames: ['A'],
        nextJob: 4,
        inFlight: [{ jobIndex: 3, workflowId: 'dispatch-d-job-3' }],
        counts: { succeeded: 1, skipped: 0, changedCode: 2, failed: 1, cancelled: 0, jobsFinished: 3 },
        failures: [],
        dryRunOutputs: [],
        startedAt: 7,
        runs: 3,
      },
    };
    const continued = decodeDispatchInput(legacyState);
    assert.equal(continued.kind, 'continued');
    assert.equal(continued.continue_as_new_after, 2);
    if (continued.kind !== 'continued') return;
    assert.deepEqual(continued.state.settings, {
      num_parallel_workers: 2,
      tasks_per_job: 1,
      dry_run: false,
      force: true,
      tolerated_failure_count: 3,
    });
    assert.deepEqual(continued.state.in_flight, [{ job_index: 3, workflow_id: 'dispatch-d-job-3' }]);
    assert.equal(continued.state.counts.changed_code, 2);

    const retry = decodeDispatchInput({
      dispatchId: 'r',
      retryOf: {
        dispatchId: 'd',
        numParallelWorkers: 4,
        tasksPerJob: 2,
        dryRun: false,
        force: false,
        analysisNames: ['A'],
        tolerance: { percent: 5 },
      },
    });
    assert.deepEqual(retry, {
      kind: 'retry',
      dispatch_id: 'r',
      retry_of: 'd',
      settings: {
        num_parallel_workers: 4,
        tasks_per_job: 2,
        dry_run: false,
        force: false,
        tolerated_failure_percent: 5,
      },
      analysis_names: ['A'],
    });
    assert.deepEqual(decodeDispatchInput({ dispatchId: 'n', request }), {
      kind: 'new',
      dispatch_id: 'n',
      request,
    });
    assert.throws(() => decodeDispatchInput({ dispatchId: 'x' }), /without a request/);
  });
});
