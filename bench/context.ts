import type { BenchStack } from './stack';

/** What every benchmark of one run shares. */
export interface BenchContext {
  stack: BenchStack;
  /** Scratch folder of this run (spec files, worker logs), under test-output/. */
  dir: string;
  /** Pids of the dispatch worker, the baseline worker and the stack's servers, for CPU accounting. */
  pids: Record<string, number>;
  /** performance.now() by which the whole run should be over. */
  deadline: number;
  sampleMs: number;
}
