import type { z } from 'zod';
import type { AnalysisTask } from '../aind/dispatch-model';

/** What a TypeScript analysis's `run` receives. */
export interface RunContext<P> {
  /** The task with the institute's `AnalysisDispatchModel` fields (see README, "The task"). */
  task: AnalysisTask;
  /** Merged parameters, already validated against the definition's schema. */
  parameters: P;
  /** Every file written here is uploaded with its relative path. */
  resultsDir: string;
  log: (message: string, fields?: Record<string, unknown>) => void;
  /** Reports liveness (and optional progress details) to Temporal. */
  heartbeat: (details?: unknown) => void;
  /** Aborted when the task is cancelled or times out. */
  signal: AbortSignal;
  /** Reads one object of the task's input, e.g. `task.input.file_location[0]`. */
  readObject: (s3Url: string) => Promise<Buffer>;
}

export interface AnalysisDefinition<
  P = unknown,
  O extends Record<string, unknown> = Record<string, unknown>,
> {
  name: string;
  /** Output type P; the input side may differ (defaults fill in missing fields). */
  parameters: z.ZodType<P>;
  outputs: z.ZodType<O>;
  /**
   * Method syntax on purpose: it keeps parameters bivariant, so a definition typed by its own
   * schema can sit in a registry of `AnalysisDefinition` without casts.
   */
  run(context: RunContext<P>): Promise<O>;
}

export interface AnalysisRegistry {
  get(name: string): AnalysisDefinition | undefined;
  names(): string[];
  /** The module file an analysis was loaded from, for its records' `run_script`. */
  file?(name: string): string | undefined;
}
