/** Sizes of one run. The full run fits 30 minutes on a 2-core machine; --quick a few. */
export interface BenchPlan {
  mode: 'quick' | 'full';
  minutes: number;
  window: number;
  baselineChildren: number;
  singleTasks: number;
  batchedTasks: number;
  batchedTasksPerJob: number;
  /** One-task jobs of the command analysis (`true`), and children of its same-work anchor. */
  commandTasks: number;
  scaleTasksPerJob: number;
  scaleMinTasks: number;
  scaleMaxTasks: number;
  scaleMaxSeconds: number;
  planningRecords: number;
  planningRounds: number;
  prefixes: number;
  sequentialPrefixes: number;
  discoveryRounds: number;
  latencyMs: number;
  latencyPrefixes: number;
  latencySequentialPrefixes: number;
  /** P9: objects of the zarr-like store and of the folder of results, their size, and the large file's. */
  transferObjects: number;
  transferObjectBytes: number;
  transferLargeMiB: number;
  /** P10: runs of each command (after one warm-up), for their medians. */
  firstResultRuns: number;
}

export const QUICK: BenchPlan = {
  mode: 'quick',
  minutes: 12,
  // Smaller than the full run's, so that the batched dispatch's 20 jobs still slide through it.
  window: 10,
  baselineChildren: 100,
  singleTasks: 200,
  batchedTasks: 400,
  batchedTasksPerJob: 20,
  commandTasks: 200,
  scaleTasksPerJob: 100,
  scaleMinTasks: 500,
  scaleMaxTasks: 2_000,
  scaleMaxSeconds: 120,
  planningRecords: 10_000,
  planningRounds: 2,
  prefixes: 1_000,
  sequentialPrefixes: 1_000,
  discoveryRounds: 2,
  latencyMs: 20,
  latencyPrefixes: 500,
  latencySequentialPrefixes: 100,
  transferObjects: 1_000,
  transferObjectBytes: 16 * 1024,
  transferLargeMiB: 128,
  firstResultRuns: 3,
};

export const FULL: BenchPlan = {
  mode: 'full',
  minutes: 29,
  window: 20,
  baselineChildren: 150,
  singleTasks: 300,
  batchedTasks: 1_000,
  batchedTasksPerJob: 20,
  commandTasks: 300,
  scaleTasksPerJob: 100,
  scaleMinTasks: 1_000,
  scaleMaxTasks: 100_000,
  scaleMaxSeconds: 25 * 60,
  planningRecords: 100_000,
  planningRounds: 2,
  prefixes: 10_000,
  sequentialPrefixes: 2_000,
  discoveryRounds: 1,
  latencyMs: 20,
  latencyPrefixes: 2_000,
  latencySequentialPrefixes: 200,
  transferObjects: 10_000,
  transferObjectBytes: 16 * 1024,
  transferLargeMiB: 1024,
  firstResultRuns: 5,
};
