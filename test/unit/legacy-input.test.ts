import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DispatchRequest, PlanSummary } from '../../src/types';
import {
  decodeDispatchInput,
  decodeJobReport,
  type EarlierDispatchInput,
  type LegacyDispatchInput,
} from '../../src/workflows/legacy-input';
import type { DispatchInput, JobReport } from '../../src/workflows/messages';

const plan: PlanSummary = {
  plan_id: 'd',
  assets: 4,
  assets_without_location: 0,
  assets_without_files: 0,
  tasks_total: 4,
  tasks_new: 4,
  tasks_done: 0,
  tasks_changed_code: 0,
  tasks_to_run: 4,
  jobs: 4,
  jobs_per_page: 100,
  warnings: [],
};

const request: DispatchRequest = {
  query: {},
  asset_id_field: '_id',
  split_files: true,
  group_by: [],
  specs: [{ analysis_name: 'A', analysis_version: '1', analysis_libraries: [], analysis_parameters: {} }],
  fixed_parameters: {},
  distributed_parameters: [],
  tasks_per_job: 1,
  num_parallel_workers: 3,
  dry_run: false,
  force: false,
};

const settings = { num_parallel_workers: 2, tasks_per_job: 1, dry_run: false, force: false };
const counts = { succeeded: 1, skipped: 0, changed_code: 2, failed: 1, cancelled: 0, jobs_finished: 3 };

describe('legacy-input', () => {
  test('decodeDispatchInput: today’s input as it is', () => {
    const input: DispatchInput = {
      kind: 'stored',
      dispatchId: 'd',
      request_id: 'r',
      settings,
      analysis_names: ['A'],
    };
    assert.equal(decodeDispatchInput(input), input);
  });

  test('decodeDispatchInput: an input naming its id dispatch_id, as schedules and histories hold', () => {
    assert.deepEqual(
      decodeDispatchInput({
        kind: 'stored',
        dispatch_id: '',
        request_id: 'r',
        settings,
        analysis_names: ['A'],
        continue_as_new_after: 5,
      }),
      {
        kind: 'stored',
        dispatchId: '',
        request_id: 'r',
        settings,
        analysis_names: ['A'],
        continue_as_new_after: 5,
      },
    );
    const continued: EarlierDispatchInput = {
      kind: 'continued',
      dispatch_id: 'd',
      state: {
        plan,
        settings,
        analysis_names: ['A'],
        paused: false,
        next_job: 4,
        in_flight: [
          { job_index: 2, workflow_id: 'dispatch-d-job-2' },
          { job_index: 3, workflow_id: 'dispatch-d-job-3' },
        ],
        counts,
        failures: [],
        dry_run_outputs: [],
        started_at: 7,
        runs: 2,
      },
    };
    const decoded = decodeDispatchInput(continued);
    assert.equal(decoded.dispatchId, 'd');
    assert.equal(decoded.kind, 'continued');
    if (decoded.kind !== 'continued') return;
    assert.equal(decoded.state.phase, 'running');
    assert.deepEqual(decoded.state.running, { 2: 'dispatch-d-job-2', 3: 'dispatch-d-job-3' });
    assert.equal('in_flight' in decoded.state, false);
    assert.equal(decoded.state.next_job, 4);
  });

  test('decodeDispatchInput: the inputs from before inputs had a kind', () => {
    const legacyState: LegacyDispatchInput = {
      dispatchId: 'd',
      continueAsNewAfter: 2,
      state: {
        plan,
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
    assert.equal(continued.dispatchId, 'd');
    assert.equal(continued.continue_as_new_after, 2);
    if (continued.kind !== 'continued') return;
    assert.deepEqual(continued.state.settings, {
      num_parallel_workers: 2,
      tasks_per_job: 1,
      dry_run: false,
      force: true,
      tolerated_failure_count: 3,
    });
    assert.equal(continued.state.phase, 'running');
    assert.deepEqual(continued.state.running, { 3: 'dispatch-d-job-3' });
    assert.deepEqual(continued.state.counts, counts);

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
      dispatchId: 'r',
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
      dispatchId: 'n',
      request,
    });
    assert.throws(() => decodeDispatchInput({ dispatchId: 'x' }), /without a request/);
  });

  test('decodeJobReport: today’s report as it is, an earlier one in the dispatch’s shape', () => {
    const report: JobReport = {
      job_index: 1,
      counts: { succeeded: 1, skipped: 0, changed_code: 0, failed: 0, cancelled: 0 },
      failures: [],
      dry_run_outputs: [],
    };
    assert.equal(decodeJobReport(report), report);
    const failure = { hash: 'h', asset_name: 'a', error: 'boom' };
    assert.deepEqual(
      decodeJobReport({
        jobIndex: 3,
        succeeded: 1,
        skipped: 2,
        changedCode: 3,
        failed: 4,
        cancelled: 5,
        failures: [failure],
        dryRunOutputs: [{ hash: 'h', outputs: { n: 1 } }],
      }),
      {
        job_index: 3,
        counts: { succeeded: 1, skipped: 2, changed_code: 3, failed: 4, cancelled: 5 },
        failures: [failure],
        dry_run_outputs: [{ hash: 'h', outputs: { n: 1 } }],
      },
    );
  });
});
