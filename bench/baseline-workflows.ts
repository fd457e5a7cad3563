import { defineQuery, executeChild, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
// Types only: workflow code runs in Temporal's sandbox and must not load the activities' module.
import type { BaselineActivities } from './baseline-activities';

const { noop, stamp, findRecord, runTrue, putResults, insertRecord } = proxyActivities<BaselineActivities>({
  startToCloseTimeout: '1 minute',
});

export interface BaselineProgress {
  running: number;
  started: number;
  completed: number;
}

/** Sampled like the dispatch's `progress` query, so both sides bear the same monitoring load. */
export const baselineProgressQuery = defineQuery<BaselineProgress>('baselineProgress');

/** Four activities that do nothing: the cost Temporal itself puts on one unit of work. */
export async function baselineChild(): Promise<void> {
  for (let step = 0; step < 4; step++) await noop();
}

/**
 * Four activities doing by hand what a run of a command analysis does: the duplicate check, the
 * program (`true`), its result file and metadata, its record. What that work costs beside the
 * no-op child is the work's; what a dispatch costs beyond it is the project's.
 */
export async function sameWorkChild(): Promise<void> {
  const id = workflowInfo().workflowId;
  if (await findRecord(id)) return;
  await runTrue();
  await putResults(id);
  await insertRecord(id);
}

/** What each child does: four no-op activities, or a command task's work. */
export type BaselineChild = 'noop' | 'sameWork';

export interface BaselineInput {
  children: number;
  window: number;
  /** Four no-op activities when not given. */
  child?: BaselineChild;
}

/**
 * The raw baselines of P1: a bare parent keeping `window` children in flight until `children`
 * have completed. No planning, no continue-as-new, no code of the project: what the server and
 * the SDK do on their own, with or without a task's work.
 */
export async function baselineParent(input: BaselineInput): Promise<number> {
  const { workflowId } = workflowInfo();
  let started = 0;
  let completed = 0;
  setHandler(baselineProgressQuery, () => ({ running: started - completed, started, completed }));
  const child = input.child === 'sameWork' ? sameWorkChild : baselineChild;
  // Each lane waits for its own child only, so a slot is refilled as soon as its child closes.
  const lane = async () => {
    while (started < input.children) {
      const index = started++;
      await executeChild(child, { workflowId: `${workflowId}-child-${index}` });
      completed++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(input.window, input.children) }, lane));
  return completed;
}

/** P10's baseline: one activity that writes when it started, the least a first result takes. */
export async function baselineFirst(path: string): Promise<void> {
  await stamp(path);
}
