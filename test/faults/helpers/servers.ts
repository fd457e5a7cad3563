import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { ROOT } from '../../helpers/stack';

const run = promisify(execFile);

/** The parts of the local stack, by the name of their pid file in `.dev/run/`. */
export type Server = 'temporal' | 'ferretdb' | 'versitygw';

const DEV = join(ROOT, '.dev');

/** True while the process exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/**
 * Pid of a server that `./temporal-dev.sh up` started for this checkout. Only a process whose
 * executable lives in this checkout's `.dev/` counts, so a stale pid file can never make a test
 * kill anything else (another checkout's stack, say).
 */
export function serverPid(server: Server): number {
  const file = join(DEV, 'run', `${server}.pid`);
  if (!existsSync(file)) throw new Error(`${server} is not running: no ${file}`);
  const pid = Number(readFileSync(file, 'utf8').trim());
  const exe = alive(pid) ? readlinkSync(`/proc/${pid}/exe`) : '';
  if (!exe.startsWith(`${DEV}/`)) throw new Error(`${file} names pid ${pid}, not a server of this checkout`);
  return pid;
}

/**
 * Kills a server of the local stack at once (SIGKILL to its process group: the script starts
 * each in a session of its own), the way a crash or a lost machine would, and waits until it is gone.
 */
export async function killServer(server: Server): Promise<number> {
  const pid = serverPid(server);
  process.kill(-pid, 'SIGKILL');
  for (let waited = 0; alive(pid); waited += 50) {
    if (waited > 10_000) throw new Error(`${server} (pid ${pid}) still runs 10 s after SIGKILL`);
    await delay(50);
  }
  return pid;
}

/**
 * `./temporal-dev.sh up`: starts what is down and waits until it answers. Returns how long that
 * took, in milliseconds.
 */
export async function stackUp(): Promise<number> {
  const started = Date.now();
  await run(join(ROOT, 'temporal-dev.sh'), ['up'], { cwd: ROOT, timeout: 180_000 });
  return Date.now() - started;
}

/** Stops a server for `outageMs`, then brings it back; resolves with the measured figures. */
export async function outage(
  server: Server,
  outageMs: number,
): Promise<{ killedPid: number; downMs: number; restartMs: number }> {
  const down = Date.now();
  const killedPid = await killServer(server);
  await delay(outageMs - (Date.now() - down));
  const restartMs = await stackUp();
  return { killedPid, downMs: Date.now() - down, restartMs };
}
