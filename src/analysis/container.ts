import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType, nonRetryable } from '../errors';
import { runProgram, type CommandResult } from './command';
import type { ContainerRuntime, ContainerSpec } from './container-options';
import { sampleContainerUsage } from './container-usage';

const exec = promisify(execFile);

/**
 * What a runtime's client needs to find its store, its configuration and its daemon: nothing of
 * this reaches the container, whose environment is only what `containerArgs` sets.
 */
const RUNTIME_VARIABLES = [
  'PATH',
  'HOME',
  'TMPDIR',
  'XDG_RUNTIME_DIR',
  'XDG_CONFIG_HOME',
  'XDG_DATA_HOME',
  'CONTAINERS_CONF',
  'CONTAINERS_STORAGE_CONF',
  'CONTAINERS_REGISTRIES_CONF',
  'REGISTRY_AUTH_FILE',
  'DOCKER_HOST',
  'DOCKER_CONFIG',
  'DOCKER_CONTEXT',
];

export function runtimeEnv(parent: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of RUNTIME_VARIABLES) if (parent[name] !== undefined) env[name] = parent[name];
  return env;
}

/** The label that ties a container to the worker process that started it. */
export const WORKER_LABEL = 'analysis-dispatch.worker';

/** This process as `host/pid/start`: the start time tells a later process of the same pid apart. */
function workerIdentity(pid = process.pid): string | undefined {
  try {
    // Field 22 of stat, counted after the command name (which may hold spaces) ends with ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    return `${hostname()}/${pid}/${start}`;
  } catch {
    return undefined;
  }
}

let ownIdentity: string | undefined;
function selfIdentity(): string {
  ownIdentity ??= workerIdentity() ?? `${hostname()}/${process.pid}/unknown`;
  return ownIdentity;
}

async function runtimeCall(
  runtime: ContainerRuntime,
  args: string[],
  timeoutMs = 120_000,
): Promise<{ stdout: string; stderr: string }> {
  return exec(runtime, args, { env: runtimeEnv(), timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
}

function lastLines(text: string, count = 5): string {
  return text.trim().split('\n').slice(-count).join('\n');
}

export interface ImageFacts {
  /** The image's content digest (`sha256:...`): of its manifest where the runtime knows it. */
  digest: string;
}

const images = new Map<string, Promise<ImageFacts>>();

async function inspectImage(runtime: ContainerRuntime, image: string): Promise<ImageFacts | undefined> {
  try {
    const { stdout } = await runtimeCall(runtime, [
      'image',
      'inspect',
      '--format',
      '{{.Id}}|{{json .RepoDigests}}',
      image,
    ]);
    const [id = '', repoDigests = '[]'] = stdout.trim().split('|');
    const digests = (JSON.parse(repoDigests) as string[] | null) ?? [];
    const digest = digests.map((entry) => entry.split('@')[1]).find(Boolean);
    return { digest: digest ?? (id.startsWith('sha256:') ? id : `sha256:${id}`) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw nonRetryable(
        ErrorType.CommandNotFound,
        `Cannot run containers: the runtime "${runtime}" is not installed on this worker`,
      );
    }
    return undefined;
  }
}

/**
 * The image on this worker, pulled when missing: once per worker process, so a missing image
 * costs every task one quick look rather than a pull each. Missing after its pull, the failure
 * names the image and does not retry (a retry would find it missing again).
 */
export function ensureImage(
  runtime: ContainerRuntime,
  image: string,
  log?: (message: string, fields?: Record<string, unknown>) => void,
): Promise<ImageFacts> {
  const key = `${runtime}\0${image}`;
  let facts = images.get(key);
  if (!facts) {
    facts = (async () => {
      const present = await inspectImage(runtime, image);
      if (present) return present;
      log?.('pulling image', { image, runtime });
      let why = '';
      try {
        await runtimeCall(runtime, ['pull', '--quiet', image], 30 * 60_000);
      } catch (err) {
        why = lastLines((err as { stderr?: string }).stderr || (err as Error).message, 1);
      }
      const pulled = await inspectImage(runtime, image);
      if (pulled) return pulled;
      throw nonRetryable(
        ErrorType.ImageNotFound,
        `Image "${image}" is not on this worker and could not be pulled${why ? `: ${why}` : ''}`,
      );
    })();
    images.set(key, facts);
  }
  return facts;
}

/**
 * Runs a short command in an image, with neither network nor capabilities, for what the image holds
 * (its interpreter's version, its libraries'); answers its stdout.
 */
export async function runInImage(runtime: ContainerRuntime, image: string, argv: string[]): Promise<string> {
  await ensureImage(runtime, image);
  const { stdout } = await runtimeCall(
    runtime,
    [
      'run',
      '--rm',
      '--label',
      `${WORKER_LABEL}=${selfIdentity()}`,
      '--network',
      'none',
      '--cap-drop',
      'all',
      '--log-driver',
      'none',
      image,
      ...argv,
    ],
    60_000,
  );
  return stdout;
}

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
 * worker's death, stop it through the runtime (the watchdog runs `rm --force`), since the
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

/**
 * Removes containers left by workers of this host that are gone (a worker and its watchdog both
 * killed at once leave theirs running). Run when a worker starts; a container whose worker lives
 * is never touched. Answers how many it removed.
 */
export async function sweepOrphanContainers(runtime: ContainerRuntime): Promise<number> {
  let listed: string;
  try {
    ({ stdout: listed } = await runtimeCall(runtime, [
      'ps',
      '--all',
      '--filter',
      `label=${WORKER_LABEL}`,
      '--format',
      `{{.ID}} {{index .Labels "${WORKER_LABEL}"}}`,
    ]));
  } catch {
    return 0;
  }
  const host = hostname();
  const orphans = listed
    .split('\n')
    .map((line) => line.trim().split(' '))
    .filter(([id, owner]) => {
      if (!id || !owner) return false;
      const [ownerHost, pid] = owner.split('/');
      return ownerHost === host && workerIdentity(Number(pid)) !== owner;
    })
    .map(([id]) => id as string);
  if (orphans.length === 0) return 0;
  await runtimeCall(runtime, ['rm', '--force', '--time', '0', ...orphans]).catch(() => undefined);
  return orphans.length;
}
