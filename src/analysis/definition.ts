import type { z } from 'zod';
import type { AnalysisTask } from '../aind/dispatch-model';
import type { ContainerSpec } from './container-options';
import type { SchemaCheck } from './json-schema';

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
  /** Only workers serving this pool (`worker --pools`) run it; absent: the default pool. */
  pool?: string;
  /** At most this many runs of it at once, across every dispatch and worker; absent: no cap. */
  max_concurrent?: number;
}

/** A program declared by a manifest in the analyses folder (`*.analysis.json`). */
export interface CommandAnalysis {
  name: string;
  /** Argument vector; relative paths already resolved against the manifest's folder. */
  command: string[];
  parameters: SchemaCheck;
  outputs: SchemaCheck;
  download_inputs?: boolean | string[];
  timeout?: string;
  max_attempts?: number;
  /** Only workers serving this pool (`worker --pools`) run it; absent: the default pool. */
  pool?: string;
  /** At most this many runs of it at once, across every dispatch and worker; absent: no cap. */
  max_concurrent?: number;
  /** The image its command runs in; absent: a bare command, run as the worker's user. */
  container?: ContainerSpec;
  /** The manifest it was declared in. */
  file: string;
}

/** A manifest the worker could not serve, with the reason naming the field. */
export interface RegistryProblem {
  file: string;
  message: string;
}

export interface AnalysisRegistry {
  /** The TypeScript analysis of that name. */
  get(name: string): AnalysisDefinition | undefined;
  /** The command analysis of that name. */
  command?(name: string): CommandAnalysis | undefined;
  /** Every registered analysis, of either language. */
  names(): string[];
  /** The module file an analysis was loaded from, for its records' `run_script`. */
  file?(name: string): string | undefined;
  /** Manifests left out at load, for the worker to report at start-up. */
  problems?: RegistryProblem[];
}
