import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { promisify } from 'node:util';
import type { ContainerRuntime } from './container-options';

const exec = promisify(execFile);

/**
 * What a runtime's client needs to find its store, its configuration and its daemon: nothing of
 * this reaches the container, whose environment is only what `createArgs` sets.
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
export function selfIdentity(): string {
  ownIdentity ??= workerIdentity() ?? `${hostname()}/${process.pid}/unknown`;
  return ownIdentity;
}

export async function runtimeCall(
  runtime: ContainerRuntime,
  args: string[],
  timeoutMs = 120_000,
): Promise<{ stdout: string; stderr: string }> {
  return exec(runtime, args, { env: runtimeEnv(), timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
}

export function lastLines(text: string, count = 5): string {
  return text.trim().split('\n').slice(-count).join('\n');
}

/**
 * Removes containers left by workers of this host that are gone (a worker and its supervisor both
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
