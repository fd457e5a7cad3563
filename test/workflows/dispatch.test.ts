import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { CancelledFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Activities } from '../../src/activities';
import { createJobActivities } from '../../src/activities/jobs';
import { ErrorType } from '../../src/errors';
import { jobWorkflowId } from '../../src/workflow-ids';
import { RetryOfKey, DispatchIdKey } from '../../src/workflows/search-attributes';
import {
  analysisRuns,
  blockUntil,
  fakeJobs,
  planOf,
  plannedJobs,
  stubActivities,
  type RunLog,
} from './helpers/activities';
import {
  failureOf,
  newDispatch,
  pause,
  queryProgress,
  refused,
  reportJobFinished,
  resize,
  resultOf,
  retryDispatch,
  scheduledDispatch,
  startDispatch,
  storedDispatch,
  type DispatchStart,
} from './helpers/dispatch-messages';
import { bundleWorkflows, startTestServer, startWorker, type TestWorker } from './helpers/server';
import { deferred, eventually } from './helpers/wait';

const limits = { timeout: 60_000 };

/** Holds each run until `width` runs are under way at once (or 5 s passed), then lets them all go. */
async function untilRunsAtOnce(log: RunLog, width: number): Promise<void> {
  const wave = Math.floor((log.ran.length - 1) / width);
  const deadline = Date.now() + 5_000;
  while (log.ran.length < (wave + 1) * width && Date.now() < deadline) await sleep(20);
}

describe('dispatch workflow', () => {
  let env: TestWorkflowEnvironment;
  let worker: TestWorker;
  before(async () => {
    env = await startTestServer();
    worker = await startWorker(env, await bundleWorkflows());
  });
  after(async () => {
    await worker?.stop();
    await env?.teardown();
  });

  // The look for lost jobs is the real one, asking the test server.
  const start = (dispatch: DispatchStart, activities: Partial<Activities>) =>
    startDispatch(
      env.client,
      worker,
      dispatch,
      stubActivities({ ...createJobActivities({ temporal: () => env.client }), ...activities }),
    );

  /** A dispatch of one-task jobs over t0..t<tasks-1>, failing the tasks named in `failing`. */
  function dispatchOf(dispatch: DispatchStart, tasks: number, failing: string[] = []) {
    const runs = analysisRuns({ fails: (hash) => failing.includes(hash) });
    const planned = plannedJobs(fakeJobs(tasks));
    return { runs, handle: start(dispatch, { ...planned.activities, ...runs.activities }) };
  }

  const tolerances = [
    // 25 % of 10 tasks is 2.5: whole tasks only, so 2 are tolerated.
    { by: 'percent', id: 'percent', settings: { tolerated_failure_percent: 25 } },
    { by: 'count', id: 'count', settings: { tolerated_failure_count: 2 } },
    {
      by: 'percent and count, the stricter',
      id: 'both',
      settings: { tolerated_failure_percent: 50, tolerated_failure_count: 2 },
    },
  ];
  for (const { by, id, settings } of tolerances) {
    test(`failures within the tolerance (by ${by}) complete the dispatch with failures`, limits, async () => {
      const { handle } = dispatchOf(
        newDispatch(`within-${id}`, { num_parallel_workers: 3, ...settings }),
        10,
        ['t3', 't7'],
      );
      const result = await resultOf(await handle);
      assert.equal(result.phase, 'completed_with_failures');
      assert.deepEqual([result.succeeded, result.failed, result.jobs_finished], [8, 2, 10]);
      assert.deepEqual(result.failures.map((failure) => failure.hash).sort(), ['t3', 't7']);
    });

    test(`past the tolerance (by ${by}) no job starts and the dispatch fails`, limits, async () => {
      const { handle, runs } = dispatchOf(newDispatch(`past-${id}`, settings), 10, ['t0', 't1', 't2']);
      const { type, message, progress } = await failureOf(await handle);
      assert.equal(type, ErrorType.FailureThresholdExceeded);
      assert.match(message, /3 tasks failed, more than the 2 tolerated; 7 jobs were not started/);
      assert.deepEqual(runs.log.ran, ['t0', 't1', 't2']);
      assert.deepEqual([progress.failed, progress.succeeded, progress.jobs_started], [3, 0, 3]);
    });
  }

  test('with no tolerance one failed task fails the dispatch once every job ran', limits, async () => {
    const { handle, runs } = dispatchOf(newDispatch('intolerant', { num_parallel_workers: 2 }), 4, ['t1']);
    const { type, message, progress } = await failureOf(await handle);
    assert.equal(type, ErrorType.TasksFailed);
    assert.equal(message, '1 of 4 tasks failed');
    assert.equal(runs.log.ran.length, 4);
    assert.deepEqual([progress.succeeded, progress.failed, progress.phase], [3, 1, 'failed']);
  });

  test('never more than num_parallel_workers jobs run at once, and that many do', limits, async () => {
    const runs = analysisRuns({ during: (_task, log) => untilRunsAtOnce(log, 2) });
    const planned = plannedJobs(fakeJobs(6));
    const handle = await start(newDispatch('window', { num_parallel_workers: 2 }), {
      ...planned.activities,
      ...runs.activities,
    });
    assert.equal((await resultOf(handle)).succeeded, 6);
    assert.equal(runs.log.maxActive, 2);
  });

  test('pause and resize are refused while the dispatch plans, and work once it runs', limits, async () => {
    const planning = deferred();
    const firstRun = deferred();
    let planStarted = false;
    const jobs = fakeJobs(3);
    const planned = plannedJobs(jobs);
    const runs = analysisRuns({
      during: (task, log) => (task.hash === 't0' ? blockUntil(firstRun.promise, log) : Promise.resolve()),
    });
    const handle = await start(newDispatch('updates', { num_parallel_workers: 1 }), {
      ...planned.activities,
      ...runs.activities,
      planDispatch: async () => {
        planStarted = true;
        await blockUntil(planning.promise);
        return planOf(jobs);
      },
    });
    await eventually('the plan step runs', () => planStarted);
    await assert.rejects(pause(handle, true), refused(/still planning/));
    await assert.rejects(resize(handle, 2), refused(/still planning/));

    planning.resolve();
    await eventually('the first task runs', () => runs.log.active === 1);
    assert.deepEqual(await pause(handle, true), { paused: true, running: 1 });
    await assert.rejects(resize(handle, 0), refused(/whole number >= 1/));
    assert.deepEqual(await resize(handle, 2), { previous: 1, current: 2 });

    // Paused: the finished job's slot stays empty.
    firstRun.resolve();
    await eventually('the first job reports', async () => (await queryProgress(handle)).succeeded === 1);
    await sleep(1_000);
    const paused = await queryProgress(handle);
    assert.deepEqual([paused.jobs_started, paused.paused, paused.num_parallel_workers], [1, true, 2]);

    assert.deepEqual(await pause(handle, false), { paused: false, running: 0 });
    const result = await resultOf(handle);
    assert.deepEqual([result.succeeded, result.jobs_started], [3, 3]);
  });

  test('a resize widens the window of a running dispatch', limits, async () => {
    const resized = deferred();
    const runs = analysisRuns({
      during: (task, log) =>
        task.hash === 't0' ? blockUntil(resized.promise, log) : untilRunsAtOnce(log, 4),
    });
    const planned = plannedJobs(fakeJobs(4));
    const handle = await start(newDispatch('widen', { num_parallel_workers: 1 }), {
      ...planned.activities,
      ...runs.activities,
    });
    await eventually('the first task runs', () => runs.log.active === 1);
    assert.deepEqual(await resize(handle, 3), { previous: 1, current: 3 });
    await eventually('two more jobs start', () => runs.log.active === 3);
    resized.resolve();
    assert.equal((await resultOf(handle)).succeeded, 4);
    assert.equal(runs.log.maxActive, 3);
  });

  test('a second report of the same job is not counted', limits, async () => {
    const reported = deferred();
    const runs = analysisRuns({
      during: (task, log) => (task.hash === 't1' ? blockUntil(reported.promise, log) : Promise.resolve()),
    });
    const planned = plannedJobs(fakeJobs(2));
    const handle = await start(newDispatch('duplicate-report'), {
      ...planned.activities,
      ...runs.activities,
    });
    await eventually('the second job runs', () => runs.log.active === 1 && runs.log.ran.length === 2);
    await reportJobFinished(handle, 0, 5);
    reported.resolve();
    const result = await resultOf(handle);
    assert.deepEqual([result.succeeded, result.jobs_finished], [2, 2]);
  });

  test(
    'continue-as-new carries the jobs in flight; their reports count in the next run',
    limits,
    async () => {
      const nextRun = deferred();
      const runs = analysisRuns({
        during: (task, log) =>
          ['t0', 't1'].includes(task.hash) ? blockUntil(nextRun.promise, log) : Promise.resolve(),
      });
      const planned = plannedJobs(fakeJobs(5));
      const handle = await start(
        newDispatch('continued', { num_parallel_workers: 2, continue_as_new_after: 2 }),
        {
          ...planned.activities,
          ...runs.activities,
        },
      );
      // The first two jobs report only once the run that started them has continued as new.
      await eventually('the dispatch continues as new', async () => (await queryProgress(handle)).runs >= 2);
      nextRun.resolve();
      const result = await resultOf(handle);
      assert.deepEqual([result.succeeded, result.jobs_finished, result.jobs_started], [5, 5, 5]);
      assert.equal(result.runs, 3);
      assert.deepEqual([...runs.log.ran].sort(), ['t0', 't1', 't2', 't3', 't4']);
      // Job 0 closed after the run that started it; job 2 within it. Both reported by their
      // result alone: neither sent the dispatch a signal.
      for (const jobIndex of [0, 2]) {
        const job = env.client.workflow.getHandle(jobWorkflowId(handle.workflowId, jobIndex));
        const events = (await job.fetchHistory()).events ?? [];
        assert.ok(events.length > 0);
        assert.equal(
          events.filter((event) => event.signalExternalWorkflowExecutionInitiatedEventAttributes).length,
          0,
          `job ${jobIndex} signalled its dispatch`,
        );
      }
    },
  );

  test(
    'a cancelled dispatch cancels its running jobs, those of earlier runs too, and ends cancelled',
    limits,
    async () => {
      const never = new Promise<void>(() => undefined);
      const runs = analysisRuns({ during: (_task, log) => blockUntil(never, log) });
      const planned = plannedJobs(fakeJobs(4));
      // Jobs 0 and 1 are started by the first run, job 2 by the second; job 3 has no free slot.
      const dispatch = newDispatch('cancelled', { num_parallel_workers: 3, continue_as_new_after: 2 });
      const handle = await start(dispatch, { ...planned.activities, ...runs.activities });
      await eventually('three jobs run', () => runs.log.active === 3);
      assert.equal((await queryProgress(handle)).runs, 2);
      await handle.cancel();
      const err = await handle.result().catch((err: unknown) => err);
      assert.ok(err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure, String(err));
      assert.equal(runs.log.cancelled, 3);
      // A job reports before it ends: it may still be closing when the dispatch has ended.
      for (const jobIndex of [0, 1, 2]) {
        const job = env.client.workflow.getHandle(jobWorkflowId(dispatch.workflowId, jobIndex));
        await eventually(
          `job ${jobIndex} ends`,
          async () => (await job.describe()).status.name !== 'RUNNING',
        );
        assert.equal((await job.describe()).status.name, 'CANCELLED');
      }
      const progress = await queryProgress(handle);
      assert.deepEqual([progress.phase, progress.cancelled, progress.jobs_started], ['cancelled', 3, 3]);
    },
  );

  test(
    'a job terminated by hand has its tasks counted failed, frees its slot, and the dispatch ends',
    limits,
    async () => {
      const never = new Promise<void>(() => undefined);
      const lateReport = deferred();
      const runs = analysisRuns({
        during: (task, log) =>
          task.hash === 't0'
            ? blockUntil(never, log)
            : task.hash === 't2'
              ? blockUntil(lateReport.promise, log)
              : Promise.resolve(),
      });
      const planned = plannedJobs(fakeJobs(3, 2));
      const dispatch = newDispatch('terminated-job', {
        num_parallel_workers: 2,
        tasks_per_job: 2,
        check_jobs_every: '1 second',
      });
      const handle = await start(dispatch, { ...planned.activities, ...runs.activities });
      await eventually('job 0 runs', () => runs.log.ran.includes('t0'));
      await env.client.workflow.getHandle(jobWorkflowId(dispatch.workflowId, 0)).terminate('by hand');
      await eventually('job 0 is counted lost', async () => (await queryProgress(handle)).failed === 2);
      // The slot it held went to job 2; a report of job 0 coming now is not counted again.
      await eventually('job 2 runs', () => runs.log.ran.includes('t4'));
      await reportJobFinished(handle, 0, 2);
      lateReport.resolve();
      const { type, message, progress } = await failureOf(handle);
      assert.equal(type, ErrorType.TasksFailed);
      assert.equal(message, '2 of 6 tasks failed');
      assert.deepEqual([progress.succeeded, progress.failed, progress.jobs_finished], [4, 2, 3]);
      assert.equal(progress.running, 0);
      assert.deepEqual(
        progress.failures.map((failure) => failure.error),
        [`job ${jobWorkflowId(dispatch.workflowId, 0)} closed without reporting (terminated)`],
      );
    },
  );

  test('a job lost while the dispatch runs is counted before it continues as new', limits, async () => {
    const never = new Promise<void>(() => undefined);
    const go = deferred();
    const runs = analysisRuns({
      during: (task, log) =>
        task.hash === 't0'
          ? blockUntil(never, log)
          : task.hash === 't1'
            ? blockUntil(go.promise, log)
            : Promise.resolve(),
    });
    const planned = plannedJobs(fakeJobs(5));
    // Checks an hour apart: only the one before a continue-as-new can notice the lost job. The
    // first run starts jobs 0 and 1; the second starts 2 and 3 once job 1 freed its slot, and
    // checks before it hands job 4 to the third.
    const dispatch = newDispatch('lost-at-continue', {
      num_parallel_workers: 2,
      continue_as_new_after: 2,
      check_jobs_every: '1 hour',
      tolerated_failure_count: 1,
    });
    const handle = await start(dispatch, { ...planned.activities, ...runs.activities });
    await eventually('jobs 0 and 1 run', () => runs.log.active === 2);
    await env.client.workflow.getHandle(jobWorkflowId(dispatch.workflowId, 0)).terminate('by hand');
    go.resolve();
    const result = await resultOf(handle);
    assert.equal(result.phase, 'completed_with_failures');
    assert.deepEqual([result.succeeded, result.failed, result.jobs_finished], [4, 1, 5]);
    assert.equal(result.runs, 3);
  });

  test('a cancelled dispatch does not wait for a job that closed without reporting', limits, async () => {
    const never = new Promise<void>(() => undefined);
    const runs = analysisRuns({ during: (_task, log) => blockUntil(never, log) });
    const planned = plannedJobs(fakeJobs(2));
    const dispatch = newDispatch('cancelled-lost', { num_parallel_workers: 2, check_jobs_every: '1 hour' });
    const handle = await start(dispatch, { ...planned.activities, ...runs.activities });
    await eventually('both jobs run', () => runs.log.active === 2);
    await env.client.workflow.getHandle(jobWorkflowId(dispatch.workflowId, 0)).terminate('by hand');
    await handle.cancel();
    const err = await handle.result().catch((err: unknown) => err);
    assert.ok(err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure, String(err));
    const progress = await queryProgress(handle);
    assert.deepEqual(
      [progress.phase, progress.failed, progress.cancelled, progress.running],
      ['cancelled', 1, 1, 0],
    );
  });

  test('a retry plans from the plan of the dispatch it retries', limits, async () => {
    let asked: unknown;
    const runs = analysisRuns();
    const planned = plannedJobs(fakeJobs(2));
    const handle = await start(retryDispatch('retry-b', 'retry-a', { tasks_per_job: 1 }), {
      ...planned.activities,
      ...runs.activities,
      planRetry: async (input) => {
        asked = input;
        return planOf(fakeJobs(2));
      },
    });
    const result = await resultOf(handle);
    assert.deepEqual(asked, { fromPlanId: 'retry-a', planId: 'retry-b', tasksPerJob: 1 });
    assert.deepEqual([result.retry_of, result.succeeded], ['retry-a', 2]);
    const { typedSearchAttributes } = await handle.describe();
    assert.equal(typedSearchAttributes.get(RetryOfKey), 'retry-a');
  });

  test('a dispatch a schedule started takes its id from its workflow id', limits, async () => {
    let planId: string | undefined;
    const planned = plannedJobs(fakeJobs(1));
    const handle = await start(scheduledDispatch('dispatch-sched-nightly-2026-01-01T00:00:00Z'), {
      ...planned.activities,
      ...analysisRuns().activities,
      planDispatch: async (input) => {
        planId = input.planId;
        return planOf(fakeJobs(1));
      },
    });
    const result = await resultOf(handle);
    assert.equal(planId, 'sched-nightly-2026-01-01T00:00:00Z');
    assert.equal(result.dispatch_id, 'sched-nightly-2026-01-01T00:00:00Z');
    const { typedSearchAttributes } = await handle.describe();
    assert.equal(typedSearchAttributes.get(DispatchIdKey), 'sched-nightly-2026-01-01T00:00:00Z');
  });

  test('a dispatch whose request waits in the database plans it by its id', limits, async () => {
    let asked: unknown;
    const planned = plannedJobs(fakeJobs(2));
    const handle = await start(storedDispatch('stored-a', 'stored-a', { num_parallel_workers: 2 }), {
      ...planned.activities,
      ...analysisRuns().activities,
      planDispatch: async (input) => {
        asked = input;
        return planOf(fakeJobs(2));
      },
    });
    const result = await resultOf(handle);
    assert.deepEqual(asked, { requestId: 'stored-a', planId: 'stored-a' });
    assert.equal(result.succeeded, 2);
  });
});
