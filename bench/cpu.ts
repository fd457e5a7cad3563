import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../test/helpers/stack';

const TICKS_PER_SECOND = 100;

/**
 * Pids of the local stack's servers, as `./temporal-dev.sh status` reports them, by program; the
 * Temporal server is `temporal` whichever runs (the dev server, or with DEV_TEMPORAL=server the
 * Temporal server, beside `postgres` and `temporal-ui-server`).
 */
export function stackPids(): Record<string, number> {
  const text = execFileSync(join(ROOT, 'temporal-dev.sh'), ['status'], { encoding: 'utf8' });
  const pids: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = /^(\w+)\s+([\w-]+)\s.*\bpid (\d+)/.exec(line.trim());
    if (match) pids[match[1] === 'temporal' ? 'temporal' : match[2]!] = Number(match[3]);
  }
  return pids;
}

/**
 * CPU seconds of a process and its children: PostgreSQL serves each connection from a child of
 * its own (in a session of its own, so not by process group). A backend that has ended is lost
 * from the count; the Temporal server keeps its connections open.
 */
function withChildrenCpuSeconds(pid: number): number {
  let total = cpuSeconds(pid);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === pid) total += (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
    } catch {
      // Gone between the listing and the read.
    }
  }
  return total;
}

/** The CPU a server has used; PostgreSQL's with its backends. */
function serverCpuSeconds(name: string, pid: number): number {
  return name === 'postgres' ? withChildrenCpuSeconds(pid) : cpuSeconds(pid);
}

/** User plus system CPU seconds a process has used so far (0 once it is gone). */
export function cpuSeconds(pid: number): number {
  return statSeconds(pid, 11);
}

/**
 * CPU seconds of the children a process has waited for (with theirs): a worker's analysis
 * programs and whatever it starts to guard them, once they have exited.
 */
function reapedChildrenCpuSeconds(pid: number): number {
  return statSeconds(pid, 13);
}

/** The user and system ticks at `field` and the one after it in /proc/<pid>/stat, in seconds. */
function statSeconds(pid: number, field: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may hold spaces, sit after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[field]) + Number(fields[field + 1])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** Busy CPU seconds of the whole machine, every process included (other engineers' too). */
export function machineBusySeconds(): number {
  const [cpu] = readFileSync('/proc/stat', 'utf8').split('\n');
  const values = (cpu ?? '').trim().split(/\s+/).slice(1).map(Number);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  const total = values.reduce((sum, value) => sum + value, 0);
  return (total - idle) / TICKS_PER_SECOND;
}

export type CpuUse = Record<string, number>;

/**
 * CPU seconds spent by each named process (and by the machine as a whole) between start and stop:
 * a cost per unit of work that other engineers' load disturbs far less than wall-clock rates.
 * `<name>Reaped` is what the process's exited children spent meanwhile.
 */
export function cpuMeter(pids: Record<string, number>): () => CpuUse {
  const read = (): CpuUse => {
    const use: CpuUse = {};
    for (const [name, pid] of Object.entries(pids)) {
      use[name] = serverCpuSeconds(name, pid);
      use[`${name}Reaped`] = reapedChildrenCpuSeconds(pid);
    }
    return use;
  };
  const before = read();
  const machineBefore = machineBusySeconds();
  const wallBefore = performance.now();
  return () => {
    const use: CpuUse = {};
    for (const [name, seconds] of Object.entries(read())) use[name] = seconds - (before[name] ?? 0);
    use.machine = machineBusySeconds() - machineBefore;
    use.wall = (performance.now() - wallBefore) / 1000;
    return use;
  };
}
