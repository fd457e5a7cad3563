import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { ErrorType, nonRetryable } from '../errors';
import { analysisTask } from '../aind/dispatch-model';
import { cancellationError, runProgram, type ProgramUsage } from './command';
import { commandEnv, resolveCommandArg } from './command-env';
import { runContainer } from './container';
import type { ContainerRuntime, ContainerSpec } from './container-options';
import { downloadInputs, readObject, type LocalInput } from './inputs';
import {
  validateCommandOutputs,
  validateCommandParameters,
  validateOutputs,
  validateParameters,
} from './registry';
import { measureProcessUsage } from './process-usage';
import { listResultFiles } from './result-files';
import { specCommandRefusal } from './spec-command';
import type { AnalysisRegistry } from './definition';
import { folderPrefix } from '../storage/s3-url';
import type { AindCode, Task } from '../types';

export interface RunAnalysisOptions {
  task: Task;
  registry: AnalysisRegistry;
  /** A fresh folder made by the caller: results go to `results/`, downloads to `inputs/`. */
  workDir: string;
  s3: S3Client;
  /** Where relative paths of a `command` are resolved. */
  commandRoot: string;
  /** Extra environment variable names a command may see. */
  passEnv: string[];
  /** Whether a `command` given in the dispatch spec may run here (ANALYSIS_ALLOW_SPEC_COMMANDS). */
  allowSpecCommands: boolean;
  heartbeat: (details?: unknown) => void;
  signal: AbortSignal;
  log: (message: string, fields?: Record<string, unknown>) => void;
  killGraceMs?: number;
  heartbeatIntervalMs?: number;
  /** The analysis's code as the institute's `Code`: part of the task the analysis receives. */
  code: AindCode;
  /** What runs analyses whose manifest names an image (ANALYSIS_CONTAINER_RUNTIME). */
  containerRuntime?: ContainerRuntime;
  /** Bare commands refused: only analyses in containers run here (ANALYSIS_REQUIRE_CONTAINERS). */
  requireContainers?: boolean;
}

export interface RunAnalysisResult {
  outputs: Record<string, unknown>;
  /**
   * CPU time and peak memory: of a command's process tree, where the platform tells; of the worker
   * process while a TypeScript analysis ran (process-usage.ts).
   */
  usage?: ProgramUsage;
  /** Result files relative to `resultsDir`, posix separators, sorted. */
  files: string[];
  resultsDir: string;
}

/** Runs a task's analysis, TypeScript or command, and lists what it left in the results folder. */
export async function runAnalysis(options: RunAnalysisOptions): Promise<RunAnalysisResult> {
  const resultsDir = join(options.workDir, 'results');
  await mkdir(resultsDir, { recursive: true });
  const { outputs, usage } = await runByKind(options, resultsDir);
  const files = await listResultFiles(resultsDir);
  options.log('analysis finished', { files: files.length });
  return { outputs, files, resultsDir, ...(usage ? { usage } : {}) };
}

/**
 * A spec's own command first (where the worker allows it), then a registered command analysis,
 * then a TypeScript one: the registry decides what a named analysis runs, never the spec.
 */
async function runByKind(
  options: RunAnalysisOptions,
  resultsDir: string,
): Promise<{ outputs: Record<string, unknown>; usage?: ProgramUsage }> {
  const { analysis } = options.task;
  if (analysis.command?.length) {
    if (!options.allowSpecCommands)
      throw nonRetryable(ErrorType.SpecCommandRefused, specCommandRefusal(analysis.analysis_name));
    if (options.requireContainers) throw bareRefusal(analysis.analysis_name);
    return runCommandAnalysis(options, resultsDir, {
      command: analysis.command,
      download_inputs: analysis.download_inputs,
      parameters: options.task.parameters,
    });
  }
  const registered = options.registry.command?.(analysis.analysis_name);
  if (!registered) return runTypeScriptAnalysis(options, resultsDir);
  if (!registered.container && options.requireContainers) throw bareRefusal(registered.name);
  const ran = await runCommandAnalysis(options, resultsDir, {
    command: registered.command,
    container: registered.container,
    download_inputs: registered.download_inputs,
    parameters: validateCommandParameters(registered, options.task.parameters),
  });
  return { ...ran, outputs: validateCommandOutputs(registered, ran.outputs) };
}

function bareRefusal(name: string) {
  return nonRetryable(
    ErrorType.ContainerRequired,
    `Analysis "${name}" is a bare command, and this worker runs analyses only in containers (ANALYSIS_REQUIRE_CONTAINERS=1): give its manifest an "image"`,
  );
}

/** Settles with the analysis, or rejects on abort even when the analysis ignores its signal. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(cancellationError(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(cancellationError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

async function runTypeScriptAnalysis(
  options: RunAnalysisOptions,
  resultsDir: string,
): Promise<{ outputs: Record<string, unknown>; usage: ProgramUsage }> {
  const { task, registry, signal } = options;
  const name = task.analysis.analysis_name;
  const definition = registry.get(name);
  if (!definition) {
    const known =
      registry
        .names()
        .map((registered) => `"${registered}"`)
        .join(', ') || 'none';
    throw nonRetryable(ErrorType.UnknownAnalysis, `No analysis named "${name}" (registered: ${known})`);
  }
  const parameters = validateParameters(definition, task.parameters);
  options.log('running TypeScript analysis', { analysis: name });
  // The worker proves it is alive even when an analysis awaits something long without heartbeating.
  const started = Date.now();
  const beat = setInterval(
    () => options.heartbeat({ analysis: name, elapsed_s: Math.round((Date.now() - started) / 1000) }),
    options.heartbeatIntervalMs ?? 5000,
  );
  const measured = measureProcessUsage();
  // Through then(), so that a run that throws before returning a promise is caught all the same.
  const running = Promise.resolve().then(() =>
    definition.run({
      task: analysisTask(task, options.code),
      parameters,
      resultsDir,
      log: options.log,
      heartbeat: options.heartbeat,
      signal,
      readObject: (url) => readObject(options.s3, url, signal),
    }),
  );
  let outputs: Record<string, unknown>;
  let usage: ProgramUsage;
  try {
    outputs = await untilAborted(running, signal);
  } finally {
    clearInterval(beat);
    usage = measured();
  }
  return { outputs: validateOutputs(definition, outputs), usage };
}

/** What a command analysis runs with: the spec's or its manifest's. */
interface CommandRun {
  command: string[];
  /** The image the command runs in; absent: run on the worker as its user. */
  container?: ContainerSpec;
  download_inputs?: boolean | string[];
  /** Merged parameters as the program receives them in its task file. */
  parameters: Record<string, unknown>;
}

async function runCommandAnalysis(
  options: RunAnalysisOptions,
  resultsDir: string,
  run: CommandRun,
): Promise<{ outputs: Record<string, unknown>; usage?: ProgramUsage }> {
  const { task, workDir, commandRoot, signal } = options;
  const [program = '', ...args] = run.command;
  // In a container, /data holds the task (job_dict/) and the inputs, as Code Ocean lays them out.
  const inputDir = join(workDir, run.container ? 'data' : 'inputs');
  await mkdir(inputDir, { recursive: true });
  let inputFiles: LocalInput[] = [];
  const wanted = inputUrls(task, run.download_inputs);
  if (wanted.length) {
    options.heartbeat({ downloading: wanted.length });
    inputFiles = await downloadInputs(options.s3, wanted, inputDir, signal);
    options.log('downloaded inputs', { files: inputFiles.length });
  }
  const taskJson = {
    ...analysisTask({ ...task, parameters: run.parameters }, options.code),
    input_files: inputFiles,
  };
  const taskText = `${JSON.stringify(taskJson, null, 2)}\n`;
  // How a run is watched, stopped and heard from, the same in a container and bare.
  const supervision = {
    signal,
    heartbeat: options.heartbeat,
    log: options.log,
    killGraceMs: options.killGraceMs,
    heartbeatIntervalMs: options.heartbeatIntervalMs,
  };
  if (run.container) {
    const taskFileName = `${task.hash}.json`;
    await mkdir(join(inputDir, 'job_dict'), { recursive: true });
    await writeFile(join(inputDir, 'job_dict', taskFileName), taskText);
    const scratchDir = join(workDir, 'scratch');
    await mkdir(scratchDir, { recursive: true });
    // The image may run as any user: the folders it writes are its own, and the work root above
    // them (0700) still keeps everyone else out.
    await Promise.all([chmod(resultsDir, 0o777), chmod(scratchDir, 0o777)]);
    options.log('running container analysis', {
      analysis: task.analysis.analysis_name,
      image: run.container.image,
    });
    const ran = await runContainer({
      runtime: run.container.runtime ?? options.containerRuntime ?? 'podman',
      spec: run.container,
      command: run.command,
      layout: { dataDir: inputDir, resultsDir, scratchDir, taskFileName },
      workDir,
      analysisName: task.analysis.analysis_name,
      ...supervision,
    });
    return { outputs: await readOutputsJson(resultsDir, task.analysis.analysis_name), usage: ran.usage };
  }
  const taskFile = join(workDir, 'task.json');
  await writeFile(taskFile, taskText);
  // A HOME of the run's own: the worker's (its dotfiles, caches, cloud credentials) is not the
  // program's to read or change, and runs do not meet through it.
  const home = join(workDir, 'home');
  await mkdir(home, { recursive: true, mode: 0o700 });
  const env = commandEnv(options.passEnv, {
    HOME: home,
    ANALYSIS_TASK_FILE: taskFile,
    ANALYSIS_RESULTS_DIR: resultsDir,
    ANALYSIS_INPUT_DIR: inputDir,
  });
  options.log('running command analysis', { analysis: task.analysis.analysis_name, program });
  // Logs stay beside the results, not in them: they are worker diagnostics, not analysis output.
  const ran = await runProgram({
    program: program.includes('/') ? resolveCommandArg(program, commandRoot) : program,
    args: args.map((arg) => resolveCommandArg(arg, commandRoot)),
    cwd: workDir,
    env,
    stdoutPath: join(workDir, 'stdout.log'),
    stderrPath: join(workDir, 'stderr.log'),
    ...supervision,
  });
  return { outputs: await readOutputsJson(resultsDir, task.analysis.analysis_name), usage: ran.usage };
}

/** `outputs.json` becomes the record's outputs (and stays a result file); it must be a JSON object. */
async function readOutputsJson(resultsDir: string, analysisName: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(join(resultsDir, 'outputs.json'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw nonRetryable(
      ErrorType.InvalidOutputs,
      `outputs.json of "${analysisName}" is not valid JSON: ${(err as Error).message}`,
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw nonRetryable(ErrorType.InvalidOutputs, `outputs.json of "${analysisName}" must hold a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** The objects a command analysis asked to have on local disk before it starts. */
function inputUrls(task: Task, wanted: boolean | string[] | undefined): string[] {
  if (wanted === true) return task.input.file_location;
  if (!Array.isArray(wanted)) return [];
  return task.input.s3_location.flatMap((location) =>
    wanted.map((path) => folderPrefix(location) + path.replace(/^\/+/, '')),
  );
}
