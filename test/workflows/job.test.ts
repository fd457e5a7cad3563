import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Activities } from '../../src/activities';
import type { ClaimStatus } from '../../src/activities/records';
import { ErrorType, nonRetryable } from '../../src/errors';
import { jobWorkflowId } from '../../src/workflow-ids';
import type { Task } from '../../src/types';
import { analysisRuns, blockUntil, fakeJobs, plannedJobs, stubActivities } from './helpers/activities';
import {
  failureOf,
  newDispatch,
  queryProgress,
  resultOf,
  startDispatch,
  type DispatchHandle,
  type DispatchStart,
} from './helpers/dispatch-messages';
import { bundleWorkflows, startTestServer, startWorker, type TestWorker } from './helpers/server';
import { eventually } from './helpers/wait';

const limits = { timeout: 60_000 };
const never = new Promise<void>(() => undefined);

/** The job's wait after a claim found tasks busy (job.ts): real time, the server cannot skip it. */
const BUSY_WAIT_MS = 15_000;

async function cancelled(handle: DispatchHandle): Promise<void> {
  await handle.cancel();
  await handle.result().catch(() => undefined);
}

/** Each job is run by a dispatch, the way it always is: the job reports its counts to it. */
describe('job workflow', () => {
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

  const start = (dispatch: DispatchStart, activities: Partial<Activities>) =>
    startDispatch(env.client, worker, dispatch, stubActivities(activities));

  const claimedAs =
    (statuses: Record<string, ClaimStatus>) =>
    (task: Task): ClaimStatus =>
      statuses[task.hash] ?? 'run';

  test(
    'tasks found busy run after the wait; done and changed ones are counted, not run',
    limits,
    async () => {
      const jobs = fakeJobs(1, 4);
      const planned = plannedJobs(jobs, claimedAs({ t1: 'done', t2: 'changed_code', t3: 'busy' }));
      const runs = analysisRuns();
      const ranAt = new Map<string, number>();
      const claimed: string[][] = [];
      const handle = await start(newDispatch('busy', { tasks_per_job: 4 }), {
        ...planned.activities,
        ...runs.activities,
        runTask: async (input) => {
          ranAt.set(input.task.hash, Date.now());
          return runs.activities.runTask(input);
        },
        claimTasks: async ({ tasks }) => {
          claimed.push(tasks.map((task) => task.hash));
          return tasks.map(() => 'run');
        },
      });
      const result = await resultOf(handle);
      assert.deepEqual(runs.log.ran, ['t0', 't3']);
      assert.deepEqual(claimed, [['t3']]);
      assert.ok(
        ranAt.get('t3')! - ranAt.get('t0')! >= BUSY_WAIT_MS - 1_000,
        'the busy task ran before the wait',
      );
      assert.deepEqual([result.succeeded, result.skipped, result.changed_code], [2, 1, 1]);
    },
  );

  test('a task whose results were lost runs again, five times at most, then fails', limits, async () => {
    const planned = plannedJobs(fakeJobs(1));
    const runs = analysisRuns();
    const handle = await start(newDispatch('results-lost'), {
      ...planned.activities,
      ...runs.activities,
      uploadResults: async () => {
        throw nonRetryable(ErrorType.ResultsLost, 'the results of this run are no longer on this worker');
      },
    });
    const { type, progress } = await failureOf(handle);
    assert.equal(type, ErrorType.TasksFailed);
    assert.deepEqual(runs.log.ran, ['t0', 't0', 't0', 't0', 't0', 't0']);
    assert.equal(progress.failed, 1);
    assert.match(progress.failures[0]?.error ?? '', /no longer on this worker/);
    assert.deepEqual(planned.committed, []);
    assert.deepEqual(planned.released, [['t0']]);
  });

  test('a task whose results were lost once is committed from its second run', limits, async () => {
    const planned = plannedJobs(fakeJobs(1));
    const runs = analysisRuns();
    let uploads = 0;
    const handle = await start(newDispatch('results-lost-once'), {
      ...planned.activities,
      ...runs.activities,
      uploadResults: async (input) => {
        if (uploads++ === 0) throw nonRetryable(ErrorType.ResultsLost, 'gone');
        return runs.activities.uploadResults(input);
      },
    });
    const result = await resultOf(handle);
    assert.deepEqual(runs.log.ran, ['t0', 't0']);
    assert.deepEqual(planned.committed, ['t0']);
    assert.deepEqual([result.succeeded, result.failed], [1, 0]);
    assert.deepEqual(planned.released, []);
  });

  test(
    'a run that uploaded its own results skips the upload step; one that could not does not',
    limits,
    async () => {
      const planned = plannedJobs(fakeJobs(1, 2));
      const runs = analysisRuns();
      const asked: boolean[] = [];
      const handle = await start(newDispatch('run-uploads', { tasks_per_job: 2 }), {
        ...planned.activities,
        ...runs.activities,
        runTask: async (input) => {
          asked.push(input.upload === true);
          const run = await runs.activities.runTask(input);
          // t0's upload from the run step went through; t1's failed, and its files wait on the worker.
          return input.task.hash === 't0' ? { ...run, uploaded: { objects: 2, bytes: 10 } } : run;
        },
      });
      const result = await resultOf(handle);
      assert.deepEqual(asked, [true, true]);
      assert.deepEqual(runs.log.uploaded, ['t1']);
      assert.deepEqual(planned.committed.sort(), ['t0', 't1']);
      assert.equal(result.succeeded, 2);
    },
  );

  test(
    'a run that wrote its own record skips the commit step; one that could not does not',
    limits,
    async () => {
      const planned = plannedJobs(fakeJobs(1, 2));
      const runs = analysisRuns();
      const asked: Array<{ owner: string; force: boolean } | undefined> = [];
      const handle = await start(newDispatch('run-commits', { tasks_per_job: 2 }), {
        ...planned.activities,
        ...runs.activities,
        runTask: async (input) => {
          asked.push(input.commit);
          const run = { ...(await runs.activities.runTask(input)), uploaded: { objects: 2, bytes: 10 } };
          // t0's record was written by the run step; t1's write failed and waits for the commit step.
          return input.task.hash === 't0' ? { ...run, committed: 'written' as const } : run;
        },
      });
      const result = await resultOf(handle);
      assert.equal(asked.length, 2);
      for (const commit of asked) {
        assert.equal(commit?.force, false);
        assert.match(commit?.owner ?? '', /-job-0$/, 'the run commits as the job, the lock owner');
      }
      assert.deepEqual(planned.committed, ['t1']);
      assert.deepEqual(runs.log.uploaded, []);
      assert.deepEqual(planned.released, [], 'both locks went with their records');
      assert.equal(result.succeeded, 2);
    },
  );

  test(
    'a job started now marks its shape as deprecated, so a later version can drop the check',
    limits,
    async () => {
      const planned = plannedJobs(fakeJobs(1));
      const runs = analysisRuns();
      const dispatch = newDispatch('deprecated-marker');
      await resultOf(await start(dispatch, { ...planned.activities, ...runs.activities }));
      const job = env.client.workflow.getHandle(jobWorkflowId(dispatch.workflowId, 0));
      const patches = ((await job.fetchHistory()).events ?? []).flatMap((event) => {
        const marker = event.markerRecordedEventAttributes;
        const data =
          marker?.markerName === 'core_patch' && marker.details?.['patch-data']?.payloads?.[0]?.data;
        return data ? [JSON.parse(Buffer.from(data).toString('utf8')) as unknown] : [];
      });
      assert.deepEqual(patches, [{ id: 'job-shape-2026-12', deprecated: true }]);
    },
  );

  test('a job that completes gives back only the locks of its failed tasks', limits, async () => {
    const planned = plannedJobs(fakeJobs(1, 4), claimedAs({ t2: 'done' }));
    const runs = analysisRuns({ fails: (hash) => hash === 't1' });
    const handle = await start(
      newDispatch('locks-completed', { tasks_per_job: 4, tolerated_failure_count: 1 }),
      {
        ...planned.activities,
        ...runs.activities,
      },
    );
    const result = await resultOf(handle);
    assert.deepEqual([result.succeeded, result.failed, result.skipped], [2, 1, 1]);
    assert.deepEqual(planned.committed, ['t0', 't3']);
    assert.deepEqual(planned.released, [['t1']]);
  });

  test('a cancelled job gives back the lock of every task it did not commit', limits, async () => {
    const planned = plannedJobs(fakeJobs(1, 3));
    const runs = analysisRuns({
      during: (task, log) => (task.hash === 't1' ? blockUntil(never, log) : Promise.resolve()),
    });
    const handle = await start(newDispatch('locks-cancelled', { tasks_per_job: 3 }), {
      ...planned.activities,
      ...runs.activities,
    });
    await eventually('the second task runs', () => runs.log.active === 1 && runs.log.ran.length === 2);
    await cancelled(handle);
    assert.equal(runs.log.cancelled, 1);
    assert.deepEqual(planned.committed, ['t0']);
    assert.deepEqual(planned.released, [['t1', 't2']]);
    const progress = await queryProgress(handle);
    assert.deepEqual([progress.succeeded, progress.cancelled], [1, 2]);
  });

  test('a job that cannot open counts its tasks as failed', limits, async () => {
    const planned = plannedJobs(fakeJobs(2, 3));
    const runs = analysisRuns();
    const handle = await start(newDispatch('open-fails', { tasks_per_job: 3, tolerated_failure_count: 3 }), {
      ...planned.activities,
      ...runs.activities,
      openJob: async (input) => {
        if (input.jobIndex === 1) throw nonRetryable(ErrorType.InvalidInput, 'plan page 0 is gone');
        return planned.activities.openJob(input);
      },
    });
    const result = await resultOf(handle);
    assert.deepEqual([result.succeeded, result.failed], [3, 3]);
    assert.match(result.failures[0]?.error ?? '', /plan page 0 is gone/);
  });

  test('a dry run uploads, commits and releases nothing, and shows its outputs', limits, async () => {
    const planned = plannedJobs(fakeJobs(1, 2));
    const runs = analysisRuns({ fails: (hash) => hash === 't1' });
    const handle = await start(
      newDispatch('dry-run', { tasks_per_job: 2, dry_run: true, tolerated_failure_count: 1 }),
      { ...planned.activities, ...runs.activities },
    );
    const result = await resultOf(handle);
    assert.deepEqual([result.succeeded, result.failed, result.dry_run_outputs], [1, 1, 1]);
    assert.deepEqual(runs.log.discarded, ['t0']);
    assert.deepEqual([runs.log.uploaded, planned.committed, planned.released], [[], [], []]);
  });

  test('a cancelled dry run releases nothing', limits, async () => {
    const planned = plannedJobs(fakeJobs(1, 2));
    const runs = analysisRuns({ during: (_task, log) => blockUntil(never, log) });
    const handle = await start(newDispatch('dry-run-cancelled', { tasks_per_job: 2, dry_run: true }), {
      ...planned.activities,
      ...runs.activities,
    });
    await eventually('the first task runs', () => runs.log.active === 1);
    await cancelled(handle);
    assert.equal((await queryProgress(handle)).cancelled, 2);
    assert.deepEqual(planned.released, []);
  });

  test("a failed task's error and asset names reach the dispatch capped", limits, async () => {
    const [job] = fakeJobs(1);
    const task = job![0]!;
    task.input.asset_name = Array.from({ length: 2_000 }, (_, i) => `asset-with-a-long-name-${i}`);
    const planned = plannedJobs([[task]]);
    const handle = await start(newDispatch('capped-failure'), {
      ...planned.activities,
      runTask: async () => {
        throw nonRetryable(ErrorType.AnalysisFailed, 'x'.repeat(100_000));
      },
    });
    const { progress } = await failureOf(handle);
    const [failure] = progress.failures;
    assert.ok(failure);
    assert.match(failure.error, /^x+… \(\d+ more characters\)$/);
    assert.ok(failure.error.length < 4_100, `error of ${failure.error.length} characters`);
    assert.ok(failure.asset_name.startsWith('asset-with-a-long-name-0,'));
    assert.ok(failure.asset_name.length < 4_100, `asset names of ${failure.asset_name.length} characters`);
  });

  /** A run step finding every slot of its analysis held, after `attemptsUsed` attempts of its own. */
  const slotsHeld = (attemptsUsed: number) =>
    ApplicationFailure.create({
      type: ErrorType.AnalysisAtCapacity,
      message: 'all 1 run slots of analysis "A" (max_concurrent) are in use',
      nonRetryable: true,
      details: [{ attempts_used: attemptsUsed }],
    });

  test(
    'a run sent back by a full max_concurrent waits on a timer and runs, not counted failed',
    limits,
    async () => {
      const planned = plannedJobs(fakeJobs(1));
      const runs = analysisRuns();
      const asked: number[] = [];
      const handle = await start(newDispatch('at-capacity'), {
        ...planned.activities,
        ...runs.activities,
        runTask: async (input) => {
          asked.push(Date.now());
          if (asked.length <= 2) throw slotsHeld(0);
          return runs.activities.runTask(input);
        },
      });
      const result = await resultOf(handle);
      assert.deepEqual([result.succeeded, result.failed], [1, 0]);
      assert.deepEqual(runs.log.ran, ['t0']);
      assert.deepEqual(planned.committed, ['t0']);
      // Waits of 1-3 s, then 2-6 s: a timer in the job between the asks, not a retry of the step.
      assert.ok(asked[1]! - asked[0]! >= 900, `first wait ${asked[1]! - asked[0]!} ms`);
      assert.ok(asked[2]! - asked[1]! >= 1_900, `second wait ${asked[2]! - asked[1]!} ms`);
    },
  );

  test('attempts spent before a wait for a run slot count against max_attempts', limits, async () => {
    const [job] = fakeJobs(1);
    const task = job![0]!;
    task.analysis.max_attempts = 3;
    const planned = plannedJobs([[task]]);
    let runs = 0;
    let calls = 0;
    const handle = await start(newDispatch('at-capacity-attempts'), {
      ...planned.activities,
      runTask: async () => {
        calls++;
        // The first step fails once, then finds every slot held on its second attempt.
        if (calls === 2) throw slotsHeld(1);
        runs++;
        throw new Error(`run ${runs} failed`);
      },
    });
    const { progress } = await failureOf(handle);
    assert.equal(progress.failed, 1);
    assert.equal(runs, 3, 'one run before the wait and two after it: three in all');
    assert.match(progress.failures[0]?.error ?? '', /run 3 failed/);
  });
});
