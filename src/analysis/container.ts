import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType, nonRetryable } from '../errors';
import { runProgram, type CommandResult } from './command';
import { ensureImage } from './container-image';
import type { ContainerRuntime, ContainerSpec } from './container-options';
import { lastLines, runtimeCall, runtimeEnv, selfIdentity, WORKER_LABEL } from './container-runtime';
import { sampleContainerUsage } from './container-usage';

/** Where a task's run lives on the worker, and where each folder appears in the container. */
export interface ContainerLayout {
  /** `/data`, read-only: `job_dict/<task id>.json` and the downloaded inputs. */
  dataDir: string;
  /** `/results`: what is uploaded. */
  resultsDir: string;
  /** `/scratch`: the run's own space, discarded. */
  scratchDir: string;
  taskFileName: string;
}

export const CONTAINER_DATA = '/data';
export const CONTAINER_RESULTS = '/results';
export const CONTAINER_SCRATCH = '/scratch';
export const CONTAINER_CODE = '/code';

/** `podman create` / `docker create` arguments: the layout, the limits, no network unless asked. */
export function createArgs(options: {
  name: string;
  spec: ContainerSpec;
  runtime: ContainerRuntime;
  layout: ContainerLayout;
  command: string[];
  worker: string;
}): string[] {
  const { spec, layout } = options;
  const gpus =
    spec.gpus === undefined
      ? []
      : options.runtime === 'docker'
        ? ['--gpus', String(spec.gpus)]
        : // podman names GPUs as CDI devices (nvidia-ctk cdi generate).
          spec.gpus === 'all'
          ? ['--device', 'nvidia.com/gpu=all']
          : Array.from({ length: spec.gpus }, (_, i) => ['--device', `nvidia.com/gpu=${i}`]).flat();
  return [
    'create',
    '--name',
    options.name,
    // Removed by the runtime as it ends, which spares a successful run a call of its own.
    '--rm',
    '--label',
    `${WORKER_LABEL}=${options.worker}`,
    '--network',
    spec.network ? 'bridge' : 'none',
    '--pid',
    'private',
    '--ipc',
    'private',
    '--cap-drop',
    'all',
    '--security-opt',
    'no-new-privileges',
    // Output reaches the worker through the attached client; a log file on the host would copy it.
    '--log-driver',
    'none',
    ...(spec.memory_bytes
      ? ['--memory', String(spec.memory_bytes), '--memory-swap', String(spec.memory_bytes)]
      : []),
    ...(spec.cpus ? ['--cpus', String(spec.cpus)] : []),
    ...gpus,
    '--volume',
    `${layout.dataDir}:${CONTAINER_DATA}:ro`,
    '--volume',
    `${layout.resultsDir}:${CONTAINER_RESULTS}`,
    '--volume',
    `${layout.scratchDir}:${CONTAINER_SCRATCH}`,
    ...(spec.code ? ['--volume', `${spec.code}:${CONTAINER_CODE}:ro`, '--workdir', CONTAINER_CODE] : []),
    '--env',
    `ANALYSIS_TASK_FILE=${CONTAINER_DATA}/job_dict/${layout.taskFileName}`,
    '--env',
    `ANALYSIS_RESULTS_DIR=${CONTAINER_RESULTS}`,
    '--env',
    `ANALYSIS_INPUT_DIR=${CONTAINER_DATA}`,
    spec.image,
    ...options.command,
  ];
}

export interface ContainerRunOptions {
  runtime: ContainerRuntime;
  spec: ContainerSpec;
  command: string[];
  layout: ContainerLayout;
  /** Where the client runs and its logs go. */
  workDir: string;
  analysisName: string;
  signal: AbortSignal;
  heartbeat: (details?: unknown) => void;
  log: (message: string, fields?: Record<string, unknown>) => void;
  killGraceMs?: number;
  heartbeatIntervalMs?: number;
}

/**
 * Runs a command in its image and resolves when it exits 0, with the CPU time and peak memory the
 * container's cgroup counted. The container is created first (so its cgroup can be read and its
 * end inspected), then started attached; it is removed however the run ends. Cancellation, and the
 * worker's death, stop it through the runtime (the supervisor runs `rm --force`), since the
 * container is the runtime monitor's child, not the client's.
 */
export async function runContainer(options: ContainerRunOptions): Promise<CommandResult> {
  const { runtime, spec } = options;
  await ensureImage(runtime, spec.image, options.log);
  const name = `analysis-${randomBytes(8).toString('hex')}`;
  const killGraceMs = options.killGraceMs ?? 5000;
  const graceS = String(Math.max(1, Math.ceil(killGraceMs / 1000)));
  await runtimeCall(
    runtime,
    createArgs({
      name,
      spec,
      runtime,
      layout: options.layout,
      command: options.command,
      worker: selfIdentity(),
    }),
  ).catch((err: Error & { stderr?: string }) => {
    throw nonRetryable(
      ErrorType.AnalysisFailed,
      `Cannot create a container of "${spec.image}": ${lastLines(err.stderr || err.message)}`,
    );
  });
  const sampling = sampleContainerUsage(runtime, name, runtimeEnv());
  let ended = false;
  try {
    let ran: CommandResult | undefined;
    let failure: unknown;
    try {
      ran = await runProgram({
        program: runtime,
        args: ['start', '--attach', name],
        cwd: options.workDir,
        env: runtimeEnv(),
        stop: [runtime, 'rm', '--force', '--time', graceS, name],
        stdoutPath: join(options.workDir, 'stdout.log'),
        stderrPath: join(options.workDir, 'stderr.log'),
        signal: options.signal,
        heartbeat: options.heartbeat,
        log: options.log,
        killGraceMs,
        heartbeatIntervalMs: options.heartbeatIntervalMs,
      });
    } catch (err) {
      failure = err;
    }
    const usage = await sampling.stop();
    if (options.signal.aborted || !(failure instanceof ApplicationFailure)) {
      if (failure !== undefined) throw failure;
      ended = true;
      return { ...ran!, ...(usage ? { usage } : {}) };
    }
    // The kernel's OOM kill is SIGKILL (exit 137); the runtime does not always notice it under
    // cgroup v1 (and may have removed the container already), and nothing else here kills a
    // container that was not cancelled.
    const end = await containerEnd(runtime, name);
    const exitCode = (failure.details?.[0] as { exit_code?: unknown } | undefined)?.exit_code;
    if (end?.oomKilled || (exitCode === 137 && spec.memory_bytes !== undefined)) {
      throw nonRetryable(
        ErrorType.OutOfMemory,
        `"${options.analysisName}" was killed for running out of memory: its container reached its limit of ${mib(spec.memory_bytes)} (the manifest's "memory")`,
      );
    }
    throw failure;
  } finally {
    await sampling.stop();
    if (!ended) await runtimeCall(runtime, ['rm', '--force', '--time', '0', name]).catch(() => undefined);
  }
}

function mib(bytes: number | undefined): string {
  return bytes === undefined ? 'the machine' : `${Math.round(bytes / 2 ** 20)} MiB`;
}

async function containerEnd(
  runtime: ContainerRuntime,
  name: string,
): Promise<{ exitCode: number; oomKilled: boolean } | undefined> {
  try {
    const { stdout } = await runtimeCall(runtime, [
      'inspect',
      '--format',
      '{{.State.ExitCode}} {{.State.OOMKilled}}',
      name,
    ]);
    const [code, oom] = stdout.trim().split(' ');
    return { exitCode: Number(code), oomKilled: oom === 'true' };
  } catch {
    return undefined;
  }
}
