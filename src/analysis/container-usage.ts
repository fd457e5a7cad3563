import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { ProgramUsage } from './command';
import type { ContainerRuntime } from './container-options';

const exec = promisify(execFile);

const CGROUP_ROOT = '/sys/fs/cgroup';
/** Looks at the cgroup while the container runs: it is removed with the container. */
const SAMPLE_MS = 500;
const PID_LOOK_MS = 200;

function readNumber(path: string): number | undefined {
  try {
    const value = Number(readFileSync(path, 'utf8').trim());
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The counters of the cgroup a process is in, cgroup v1 (memory, cpuacct) or v2. */
export function cgroupCounters(pid: number): { cpuNs?: number; peakBytes?: number } | undefined {
  let lines: string[];
  try {
    lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n');
  } catch {
    return undefined;
  }
  const pathOf = (controller: string) =>
    lines
      .map((line) => line.split(':'))
      .find(([, controllers]) => controllers?.split(',').includes(controller))?.[2];
  const memory = pathOf('memory');
  const cpuacct = pathOf('cpuacct');
  if (memory !== undefined || cpuacct !== undefined) {
    return {
      ...(cpuacct !== undefined
        ? { cpuNs: readNumber(`${CGROUP_ROOT}/cpuacct${cpuacct}/cpuacct.usage`) }
        : {}),
      ...(memory !== undefined
        ? { peakBytes: readNumber(`${CGROUP_ROOT}/memory${memory}/memory.max_usage_in_bytes`) }
        : {}),
    };
  }
  const unified = lines.find((line) => line.startsWith('0::'))?.slice(3);
  if (unified === undefined) return undefined;
  const dir = `${CGROUP_ROOT}${unified}`;
  let cpuNs: number | undefined;
  try {
    const usec = /^usage_usec (\d+)$/m.exec(readFileSync(`${dir}/cpu.stat`, 'utf8'))?.[1];
    if (usec) cpuNs = Number(usec) * 1000;
  } catch {
    // No cpu controller delegated here.
  }
  return { cpuNs, peakBytes: readNumber(`${dir}/memory.peak`) ?? readNumber(`${dir}/memory.current`) };
}

/**
 * Measures a container from its cgroup: the CPU time it has used and the peak of its memory, as of
 * the last look (every 0.5 s; the last half second of CPU may go uncounted). Undefined where the
 * runtime gives containers no cgroup this process can read (rootless podman on cgroup v1).
 */
export function sampleContainerUsage(
  runtime: ContainerRuntime,
  name: string,
  env: Record<string, string>,
): { stop(): Promise<ProgramUsage | undefined> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let cpuNs: number | undefined;
  let peakBytes: number | undefined;
  let pid: number | undefined;
  const look = () => {
    if (pid === undefined) return;
    const counters = cgroupCounters(pid);
    if (!counters) return;
    if (counters.cpuNs !== undefined) cpuNs = Math.max(cpuNs ?? 0, counters.cpuNs);
    if (counters.peakBytes !== undefined) peakBytes = Math.max(peakBytes ?? 0, counters.peakBytes);
  };
  const findPid = async () => {
    while (!stopped && pid === undefined) {
      try {
        const { stdout } = await exec(runtime, ['inspect', '--format', '{{.State.Pid}}', name], { env });
        const found = Number(stdout.trim());
        if (found > 0) pid = found;
      } catch {
        // Not created yet, or already gone.
      }
      if (pid === undefined) await new Promise((resolve) => setTimeout(resolve, PID_LOOK_MS));
    }
    const tick = () => {
      look();
      if (!stopped) timer = setTimeout(tick, SAMPLE_MS);
    };
    tick();
  };
  const finding = findPid();
  let result: Promise<ProgramUsage | undefined> | undefined;
  return {
    stop() {
      result ??= (async () => {
        stopped = true;
        clearTimeout(timer);
        await finding;
        clearTimeout(timer);
        if (cpuNs === undefined && peakBytes === undefined) return undefined;
        return {
          cpu_time_s: Math.round((cpuNs ?? 0) / 1e6) / 1000,
          ...(peakBytes !== undefined
            ? { peak_memory_mib: Math.round((peakBytes / 2 ** 20) * 10) / 10 }
            : {}),
        };
      })();
      return result;
    },
  };
}
