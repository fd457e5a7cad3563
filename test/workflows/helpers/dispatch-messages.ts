/**
 * Everything the workflow tests send to a dispatch and read back from it, in one place: when the
 * dispatch's input, its messages or its progress answer change shape, this is the file to adapt.
 */
import assert from 'node:assert/strict';
import {
  WorkflowFailedError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Activities } from '../../../src/activities';
import type { DispatchRequest, DispatchSettings } from '../../../src/types';
import { dispatchWorkflowId } from '../../../src/workflow-ids';
import type { dispatch } from '../../../src/workflows/dispatch';
import {
  jobFinishedSignal,
  pauseUpdate,
  progressQuery,
  resizeUpdate,
  type DispatchInput,
  type DispatchProgress,
  type DispatchResult,
  type TaskFailure,
} from '../../../src/workflows/messages';
import type { TestWorker } from './server';

export type DispatchHandle = WorkflowHandle<typeof dispatch>;

/** Settings of a test dispatch: one worker, one task per job, failures not tolerated, by default. */
export type Settings = Partial<DispatchSettings> & {
  /** Jobs started per run before the dispatch continues as new. */
  continue_as_new_after?: number;
  /** How often the dispatch looks for jobs that closed without reporting. */
  check_jobs_every?: string;
};

/** A dispatch to start: its workflow id and its input. */
export interface DispatchStart {
  workflowId: string;
  input: DispatchInput;
}

function settingsOf(settings: Settings): DispatchSettings {
  const { continue_as_new_after: _run, check_jobs_every: _check, ...given } = settings;
  return { num_parallel_workers: 1, tasks_per_job: 1, dry_run: false, force: false, ...given };
}

function requestOf(settings: Settings): DispatchRequest {
  return {
    query: {},
    asset_id_field: '_id',
    split_files: false,
    group_by: [],
    specs: [
      {
        analysis_name: 'Stubbed',
        analysis_version: '1',
        analysis_libraries: [],
        analysis_parameters: {},
        s3_output_bucket: 'results',
      },
    ],
    fixed_parameters: {},
    distributed_parameters: [],
    ...settingsOf(settings),
  };
}

const runOptions = ({ continue_as_new_after, check_jobs_every }: Settings) => ({
  ...(continue_as_new_after !== undefined ? { continue_as_new_after } : {}),
  ...(check_jobs_every !== undefined ? { check_jobs_every } : {}),
});

/** A new dispatch: it plans its request (the stubbed planDispatch), then runs the plan. */
export function newDispatch(dispatchId: string, settings: Settings = {}): DispatchStart {
  return {
    workflowId: dispatchWorkflowId(dispatchId),
    input: { kind: 'new', dispatchId, request: requestOf(settings), ...runOptions(settings) },
  };
}

/** A new dispatch as the CLI starts one now: its request waits in the database under its id. */
export function storedDispatch(
  dispatchId: string,
  requestId: string,
  settings: Settings = {},
): DispatchStart {
  return {
    workflowId: dispatchWorkflowId(dispatchId),
    input: {
      kind: 'stored',
      dispatchId,
      request_id: requestId,
      settings: settingsOf(settings),
      analysis_names: ['Stubbed'],
      ...runOptions(settings),
    },
  };
}

/**
 * A dispatch a schedule started: every run of a schedule has the same input, with no dispatch id;
 * the server makes the workflow id unique.
 */
export function scheduledDispatch(workflowId: string, settings: Settings = {}): DispatchStart {
  return { workflowId, input: { kind: 'new', dispatchId: '', request: requestOf(settings) } };
}

/** A dispatch rerunning what `retryOf` left undone: it plans with the stubbed planRetry. */
export function retryDispatch(dispatchId: string, retryOf: string, settings: Settings = {}): DispatchStart {
  return {
    workflowId: dispatchWorkflowId(dispatchId),
    input: {
      kind: 'retry',
      dispatchId,
      retry_of: retryOf,
      settings: settingsOf(settings),
      analysis_names: ['Stubbed'],
      ...runOptions(settings),
    },
  };
}

/** Starts the dispatch on the test worker, its activities and its jobs' served by `activities`. */
export function startDispatch(
  client: Client,
  worker: TestWorker,
  start: DispatchStart,
  activities: Activities,
): Promise<DispatchHandle> {
  worker.serve(start.workflowId, activities);
  return client.workflow.start<typeof dispatch>('dispatch', {
    taskQueue: worker.taskQueue,
    workflowId: start.workflowId,
    args: [start.input],
  });
}

/** What a user reads off a dispatch, flat: its progress while it runs, its summary once it ended. */
export interface Progress {
  dispatch_id: string;
  phase: string;
  succeeded: number;
  failed: number;
  cancelled: number;
  skipped: number;
  changed_code: number;
  jobs_finished: number;
  jobs_started: number;
  running: number;
  runs: number;
  paused: boolean;
  num_parallel_workers: number;
  retry_of?: string;
  failures: TaskFailure[];
  /** Dry runs' outputs kept in the summary; the progress answer leaves them out. */
  dry_run_outputs: number;
}

function progressOf(answer: DispatchProgress | DispatchResult): Progress {
  const { counts } = answer;
  return {
    dispatch_id: answer.dispatch_id,
    phase: answer.phase,
    succeeded: counts.succeeded,
    failed: counts.failed,
    cancelled: counts.cancelled,
    skipped: counts.skipped,
    changed_code: counts.changed_code,
    jobs_finished: counts.jobs_finished,
    jobs_started: answer.jobs_started,
    running: answer.running,
    runs: answer.runs,
    paused: answer.paused,
    num_parallel_workers: answer.settings.num_parallel_workers,
    retry_of: answer.retry_of,
    failures: answer.failures,
    dry_run_outputs: 'dry_run_outputs' in answer ? answer.dry_run_outputs.length : 0,
  };
}

export async function queryProgress(handle: DispatchHandle): Promise<Progress> {
  return progressOf(await handle.query(progressQuery));
}

/** The summary of a dispatch that completed (with or without failures). */
export async function resultOf(handle: DispatchHandle): Promise<Progress> {
  return progressOf(await handle.result());
}

/** How a failed dispatch ended: its failure type and message, and the summary it carried. */
export async function failureOf(
  handle: DispatchHandle,
): Promise<{ type: string | undefined; message: string; progress: Progress }> {
  const err = await handle.result().then(
    () => assert.fail('the dispatch completed; it was expected to fail'),
    (err: unknown) => err,
  );
  assert.ok(err instanceof WorkflowFailedError, `expected a failed workflow, got ${String(err)}`);
  const cause = err.cause;
  assert.ok(cause instanceof ApplicationFailure, `expected an application failure, got ${String(cause)}`);
  return {
    type: cause.type ?? undefined,
    message: cause.message,
    progress: progressOf(cause.details?.[0] as DispatchResult),
  };
}

export const pause = (handle: DispatchHandle, paused: boolean) =>
  handle.executeUpdate(pauseUpdate, { args: [paused] });

export const resize = (handle: DispatchHandle, numParallelWorkers: number) =>
  handle.executeUpdate(resizeUpdate, { args: [numParallelWorkers] });

/** For `assert.rejects`: the update was refused by its validator, with a message like `pattern`. */
export const refused =
  (pattern: RegExp) =>
  (err: unknown): boolean =>
    err instanceof WorkflowUpdateFailedError && pattern.test(err.cause?.message ?? '');

/** The report a job sends when it ends, as if job `jobIndex` had succeeded `succeeded` tasks. */
export const reportJobFinished = (handle: DispatchHandle, jobIndex: number, succeeded: number) =>
  handle.signal(jobFinishedSignal, {
    job_index: jobIndex,
    counts: { succeeded, skipped: 0, changed_code: 0, failed: 0, cancelled: 0 },
    failures: [],
    dry_run_outputs: [],
  });
