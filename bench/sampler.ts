/** One observation of a running workflow: seconds since it started and the values read. */
export interface Sample {
  t: number;
  running: number;
  started: number;
  phase?: string;
  finished?: number;
  jobs?: number;
}

export interface Sampling {
  samples: Sample[];
  counts: Array<{ t: number; running: number }>;
  countError?: string;
  stop(): Promise<void>;
}

/**
 * Samples a workflow every `everyMs` through its query and, independently, through the visibility
 * store's count of running children, until stopped. A failed query (between two runs of a
 * continue-as-new, or right after the close) is skipped; a failing count stops the counting.
 */
export function startSampling(options: {
  /** performance.now() of the workflow's start: sample times count from there. */
  origin: number;
  everyMs: number;
  query: () => Promise<Omit<Sample, 't'>>;
  count: () => Promise<number>;
}): Sampling {
  const seconds = () => (performance.now() - options.origin) / 1000;
  let done = false;
  const sampling: Sampling = {
    samples: [],
    counts: [],
    async stop() {
      done = true;
      await Promise.all(loops);
    },
  };
  const every = async (work: () => Promise<boolean>) => {
    while (!done) {
      const next = performance.now() + options.everyMs;
      if (!(await work())) return;
      while (!done && performance.now() < next) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(50, next - performance.now())));
      }
    }
  };
  const loops = [
    every(async () => {
      try {
        sampling.samples.push({ t: seconds(), ...(await options.query()) });
      } catch {
        // Skipped: the next sample will do.
      }
      return true;
    }),
    every(async () => {
      try {
        sampling.counts.push({ t: seconds(), running: await options.count() });
        return true;
      } catch (err) {
        sampling.countError = (err as Error).message;
        return false;
      }
    }),
  ];
  return sampling;
}
