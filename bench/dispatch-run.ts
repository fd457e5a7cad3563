import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { Config } from '../src/config';
import { buildDispatchRequest } from '../src/request/options';
import { dispatch } from '../src/workflows/dispatch';
import { progressQuery, type DispatchResult } from '../src/workflows/messages';
import { DispatchIdKey } from '../src/workflows/search-attributes';
import { startSampling, type Sample } from './sampler';

export interface DispatchRun {
  dispatchId: string;
  workflowId: string;
  tasks: number;
  jobs: number;
  tasksPerJob: number;
  window: number;
  /** Start to result, planning included. */
  seconds: number;
  /** From the first sample past planning to the result: the jobs' part alone. */
  runSeconds: number;
  result: DispatchResult;
  samples: Sample[];
  /** Running jobs counted by the visibility store; empty when its count API did not answer. */
  counts: Array<{ t: number; running: number }>;
  countError?: string;
}

/** A spec entry but its version: the Noop analysis, or a command given in the spec itself. */
export interface BenchAnalysis {
  analysis_name: string;
  command?: string[];
}

export const NOOP_ANALYSIS: BenchAnalysis = { analysis_name: 'Noop' };

export interface DispatchRunOptions {
  client: Client;
  config: Config;
  dir: string;
  dispatchId: string;
  /** Filter on the bench's asset catalogue selecting this run's assets. */
  query: Record<string, unknown>;
  analysis: BenchAnalysis;
  analysisVersion: string;
  tasksPerJob: number;
  window: number;
  sampleMs: number;
}

/**
 * Starts a dispatch of `analysis` exactly as `analysis dispatch` does, then samples its
 * `progress` query and (independently) the visibility store's count of running jobs until it closes.
 */
export async function runDispatch(options: DispatchRunOptions): Promise<DispatchRun> {
  const { client, config, dispatchId } = options;
  mkdirSync(options.dir, { recursive: true });
  const specPath = join(options.dir, `spec-${dispatchId}.json`);
  writeFileSync(
    specPath,
    JSON.stringify([{ ...options.analysis, analysis_version: options.analysisVersion }]),
  );
  const request = buildDispatchRequest(
    {
      query: JSON.stringify(options.query),
      analysis_spec: specPath,
      tasks_per_job: String(options.tasksPerJob),
      num_parallel_workers: String(options.window),
    },
    config,
  );
  const workflowId = `dispatch-${dispatchId}`;
  const origin = performance.now();
  const handle = await client.workflow.start(dispatch, {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowId,
    args: [{ dispatchId, request }],
    typedSearchAttributes: [{ key: DispatchIdKey, value: dispatchId }],
  });
  const visibilityQuery = `DispatchId="${dispatchId}" AND ExecutionStatus="Running" AND WorkflowType="analysisJob"`;
  const sampling = startSampling({
    origin,
    everyMs: options.sampleMs,
    query: async () => {
      const progress = await handle.query(progressQuery);
      return {
        phase: progress.phase,
        running: progress.running,
        started: progress.jobs_started,
        finished: progress.counts.jobs_finished,
        jobs: progress.plan?.jobs ?? 0,
      };
    },
    count: async () => (await client.workflow.count(visibilityQuery)).count,
  });
  let result: DispatchResult;
  try {
    result = await handle.result();
  } finally {
    await sampling.stop();
  }
  const seconds = (performance.now() - origin) / 1000;
  const firstRunning = sampling.samples.find((sample) => sample.phase !== 'planning');
  const plan = result.plan;
  if (!plan) throw new Error(`dispatch ${dispatchId} finished without a plan`);
  if (result.counts.succeeded !== plan.tasks_to_run) {
    throw new Error(
      `dispatch ${dispatchId}: ${result.counts.succeeded} of ${plan.tasks_to_run} tasks succeeded (${result.counts.failed} failed)`,
    );
  }
  return {
    dispatchId,
    workflowId,
    tasks: plan.tasks_to_run,
    jobs: plan.jobs,
    tasksPerJob: options.tasksPerJob,
    window: options.window,
    seconds,
    runSeconds: seconds - (firstRunning?.t ?? 0),
    result,
    samples: sampling.samples,
    counts: sampling.counts,
    ...(sampling.countError ? { countError: sampling.countError } : {}),
  };
}
