import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { seedAssets } from '../helpers/data';
import { ROOT, testStack, type TestStack } from '../helpers/stack';
import { ErrorType } from '../../src/errors';
import { jobWorkflowId, dispatchWorkflowId } from '../../src/workflow-ids';
import { dispatch } from '../../src/workflows/dispatch';
import type { DispatchResult } from '../../src/workflows/messages';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'analyses');

describe('a job that closes without reporting', () => {
  let stack: TestStack;
  before(async () => {
    stack = await testStack('lostjob');
    await stack.startWorker({ ANALYSIS_MODULES_DIR: FIXTURES });
    await seedAssets(stack, { count: 1 });
  });
  after(async () => {
    await stack?.close();
  });

  test('terminated by hand, its tasks count failed and the dispatch ends', { timeout: 120_000 }, async () => {
    const dispatchId = `lostjob-${stack.name}`;
    const workflowId = dispatchWorkflowId(dispatchId);
    // Two jobs: one sleeps a second, the other ten minutes, until it is terminated.
    const handle = await stack.client.workflow.start(dispatch, {
      taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
      workflowId,
      args: [
        {
          kind: 'new',
          dispatchId,
          check_jobs_every: '2 seconds',
          request: {
            query: { name: { $regex: '^asset_' } },
            asset_id_field: '_id',
            split_files: false,
            group_by: [],
            specs: [
              {
                analysis_name: 'Sleep',
                analysis_version: '1',
                analysis_libraries: [],
                analysis_parameters: {},
                s3_output_bucket: stack.bucket,
                max_attempts: 1,
              },
            ],
            fixed_parameters: {},
            distributed_parameters: [{ ms: 1_000 }, { ms: 600_000 }],
            tasks_per_job: 1,
            num_parallel_workers: 2,
            dry_run: false,
            force: false,
          },
        },
      ],
    });
    const jobs = [0, 1].map((jobIndex) =>
      stack.client.workflow.getHandle(jobWorkflowId(workflowId, jobIndex)),
    );
    let sleeper: (typeof jobs)[number] | undefined;
    for (const deadline = Date.now() + 60_000; !sleeper && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const statuses = await Promise.all(
        jobs.map((job) =>
          job.describe().then(
            (d) => d.status.name,
            () => 'NOT_FOUND',
          ),
        ),
      );
      // The short job has finished; the one still running is the long one.
      if (statuses.includes('COMPLETED')) sleeper = jobs[statuses.indexOf('RUNNING')];
    }
    assert.ok(sleeper, 'one job finished while the other still runs');
    await sleeper.terminate('terminated by hand');

    const err = await handle.result().then(
      () => assert.fail('the dispatch completed; one task was lost'),
      (err: unknown) => err,
    );
    assert.ok(err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure, String(err));
    assert.equal(err.cause.type, ErrorType.TasksFailed);
    assert.equal(err.cause.message, '1 of 2 tasks failed');
    const summary = err.cause.details?.[0] as DispatchResult;
    assert.deepEqual([summary.counts.succeeded, summary.counts.failed, summary.running], [1, 1, 0]);
    assert.deepEqual(
      summary.failures.map((failure) => failure.error),
      [`job ${sleeper.workflowId} closed without reporting (terminated)`],
    );
  });
});
