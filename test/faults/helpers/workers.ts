import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ROOT } from '../../helpers/stack';

/** An `analysis worker` running as a process of its own, with its output in a log file. */
export interface WorkerProcess {
  pid: number;
  logFile: string;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>;
  /** SIGKILL, as a crash or the OOM killer would: nothing is handed back. */
  kill9(): Promise<void>;
  /** SIGTERM, then SIGKILL when it has not stopped within `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** Everything the worker wrote to stdout and stderr so far. */
  log(): string;
  /** False once the process has ended. */
  running(): boolean;
}

const START_TIMEOUT_MS = 90_000;

/** Every worker process the test file started: none may outlive it, whatever happened. */
const spawned = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of spawned) child.kill('SIGKILL');
});

/**
 * Starts `node bin/analysis.js worker` with `env`; its stdout and stderr go to
 * `logDir/<label>.log`. `ready` resolves once it says it started (it bundles the workflows first,
 * which takes seconds).
 */
export function spawnWorkerProcess(
  env: NodeJS.ProcessEnv,
  logDir: string,
  label: string,
  args: string[] = [],
): WorkerProcess & { ready: Promise<void> } {
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `${label}.log`);
  const fd = openSync(logFile, 'a');
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, 'bin', 'analysis.js'), 'worker', ...args], {
    cwd: ROOT,
    env: { ...env, LOG_LEVEL: env.WORKER_LOG_LEVEL ?? 'info' },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  spawned.add(child);
  let ended = false;
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => {
      ended = true;
      spawned.delete(child);
      resolve(code ?? signal ?? -1);
    }),
  );
  const pid = child.pid!;
  const log = () => readFileSync(logFile, 'utf8');

  const ready = (async () => {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!/worker started/.test(log())) {
      if (ended) throw new Error(`worker ${label} exited before it started:\n${log().slice(-3000)}`);
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`worker ${label} did not start within ${START_TIMEOUT_MS / 1000} s:\n${log()}`);
      }
      await delay(200);
    }
  })();

  return {
    pid,
    logFile,
    exited,
    log,
    ready,
    running: () => !ended,
    async kill9() {
      if (!ended) process.kill(pid, 'SIGKILL');
      await exited;
    },
    async stop(graceMs = 15_000) {
      if (ended) return;
      process.kill(pid, 'SIGTERM');
      const timer = setTimeout(() => !ended && process.kill(pid, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Workers of one test; `stopAll` ends every one still running (in `after`, whatever happened). */
export class WorkerPool {
  readonly all: WorkerProcess[] = [];
  private count = 0;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly logDir: string,
  ) {}

  async start(overrides: NodeJS.ProcessEnv = {}, args: string[] = []): Promise<WorkerProcess> {
    const worker = spawnWorkerProcess(
      { ...this.env, ...overrides },
      this.logDir,
      `worker-${++this.count}`,
      args,
    );
    this.all.push(worker);
    await worker.ready;
    return worker;
  }

  /** Workers not killed or stopped yet, oldest first. */
  running(): WorkerProcess[] {
    return this.all.filter((worker) => worker.running());
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.all.map((worker) => worker.stop(10_000)));
  }

  /** Every worker's log, for failure messages and for the secrets check. */
  logs(): string {
    return this.all.map((worker) => `=== ${worker.logFile}\n${worker.log()}`).join('\n');
  }
}
