import type { Client } from '@temporalio/client';
import { baselineParent, baselineProgressQuery, type BaselineChild } from './baseline-workflows';
import { startSampling, type Sample } from './sampler';

export interface BaselineRun {
  /** Four no-op activities per child, or a command task's work done by hand. */
  child: BaselineChild;
  children: number;
  window: number;
  seconds: number;
  childrenPerSecond: number;
  activitiesPerSecond: number;
  workflowId: string;
  samples: Sample[];
  counts: Array<{ t: number; running: number }>;
  countError?: string;
}

/**
 * Runs the bare parent to completion and times it from start to result, sampled through its query
 * and the visibility store exactly as the dispatch is, so that both carry the same extra load.
 */
export async function runBaseline(
  client: Client,
  options: {
    taskQueue: string;
    children: number;
    window: number;
    child: BaselineChild;
    id: string;
    sampleMs: number;
  },
): Promise<BaselineRun> {
  const workflowId = `bench-baseline-${options.id}`;
  const origin = performance.now();
  const handle = await client.workflow.start(baselineParent, {
    taskQueue: options.taskQueue,
    workflowId,
    args: [{ children: options.children, window: options.window, child: options.child }],
  });
  const sampling = startSampling({
    origin,
    everyMs: options.sampleMs,
    query: async () => {
      const progress = await handle.query(baselineProgressQuery);
      return { phase: 'running', ...progress, finished: progress.completed, jobs: options.children };
    },
    count: async () =>
      (await client.workflow.count(`ParentWorkflowId="${workflowId}" AND ExecutionStatus="Running"`)).count,
  });
  let completed: number;
  try {
    completed = await handle.result();
  } finally {
    await sampling.stop();
  }
  const seconds = (performance.now() - origin) / 1000;
  if (completed !== options.children)
    throw new Error(`baseline completed ${completed} of ${options.children} children`);
  return {
    child: options.child,
    children: options.children,
    window: options.window,
    seconds,
    childrenPerSecond: options.children / seconds,
    activitiesPerSecond: (options.children * 4) / seconds,
    workflowId,
    samples: sampling.samples,
    counts: sampling.counts,
    ...(sampling.countError ? { countError: sampling.countError } : {}),
  };
}
