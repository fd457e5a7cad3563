import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { ErrorType, nonRetryable } from '../errors';

export interface CommandOptions {
  program: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  stdoutPath: string;
  stderrPath: string;
  signal: AbortSignal;
  heartbeat: (details?: unknown) => void;
  /** Receives the tails of stdout and stderr when the program ends, however it ends. */
  log: (message: string, fields?: Record<string, unknown>) => void;
  heartbeatIntervalMs?: number;
  /** Time between SIGTERM and SIGKILL on cancellation. */
  killGraceMs?: number;
}

export interface CommandResult {
  stdoutTail: string[];
  stderrTail: string[];
}

const TAIL_LINES = 20;
const TAIL_BYTES = 64 * 1024;

/** Keeps the last bytes of a stream, enough for its last lines, however much it writes. */
class Tail {
  private text = '';
  push(chunk: Buffer): void {
    this.text = (this.text + chunk.toString('utf8')).slice(-TAIL_BYTES);
  }
  lines(): string[] {
    const text = this.text.replace(/\n+$/, '');
    return text ? text.split('\n').slice(-TAIL_LINES) : [];
  }
}

/** The error an abort should surface as: Temporal's own CancelledFailure when it gave one. */
export function cancellationError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new CancelledFailure('Analysis cancelled');
}

// Programs run in their own process group (so their children die with them); make sure an exiting
// worker does not leave them running.
const runningGroups = new Set<number>();
process.on('exit', () => {
  for (const pid of runningGroups) killGroup(pid, 'SIGKILL');
});

/** No fallback to the bare pid: once the group is gone that pid may belong to someone else. */
function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

/** A grandchild that outlives the program may hold its pipes open; do not wait on it for ever. */
const PIPE_DRAIN_MS = 2000;

/**
 * Runs a program without a shell and resolves when it exits 0. A non-zero exit is a retryable
 * failure carrying the stderr tail; a missing program is permanent; an abort sends SIGTERM to the
 * process group, then SIGKILL after the grace period, and rejects with a cancellation.
 */
export async function runCommand(options: CommandOptions): Promise<CommandResult> {
  const { program, signal, heartbeat } = options;
  if (signal.aborted) throw cancellationError(signal);
  const stdoutFile = createWriteStream(options.stdoutPath);
  const stderrFile = createWriteStream(options.stderrPath);
  const stdoutTail = new Tail();
  const stderrTail = new Tail();
  const started = Date.now();
  const child = spawn(program, options.args, {
    cwd: options.cwd,
    env: options.env,
    shell: false,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk: Buffer) => stdoutTail.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderrTail.push(chunk));
  child.stdout.pipe(stdoutFile);
  child.stderr.pipe(stderrFile);

  let exited = false;
  let killTimer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    const pid = child.pid;
    if (pid === undefined || exited) return;
    killGroup(pid, 'SIGTERM');
    killTimer = setTimeout(() => !exited && killGroup(pid, 'SIGKILL'), options.killGraceMs ?? 5000);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  const elapsed = () => Math.round((Date.now() - started) / 1000);
  heartbeat({ program, elapsed_s: 0 });
  const beat = setInterval(
    () => heartbeat({ program, pid: child.pid, elapsed_s: elapsed() }),
    options.heartbeatIntervalMs ?? 5000,
  );
  if (child.pid !== undefined) runningGroups.add(child.pid);

  try {
    const [code, exitSignal] = await new Promise<[number | null, NodeJS.Signals | null]>(
      (resolve, reject) => {
        child.once('error', reject);
        child.once('close', (exitCode: number | null, killedBy: NodeJS.Signals | null) =>
          resolve([exitCode, killedBy]),
        );
        child.once('exit', () => {
          exited = true;
          // Whatever the program left in its group (daemons, a child that ignored SIGTERM) goes too.
          // Done here, at once, while the group id cannot yet have been reused.
          if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
          setTimeout(() => {
            child.stdout.destroy();
            child.stderr.destroy();
          }, PIPE_DRAIN_MS).unref();
        });
      },
    ).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'EACCES') {
        throw nonRetryable(
          ErrorType.CommandNotFound,
          `Cannot run "${program}": ${err.code === 'ENOENT' ? 'not found' : 'not executable'}`,
        );
      }
      throw err;
    });
    // Every byte has reached the file streams once the child closed; flush them before reading.
    stdoutFile.end();
    stderrFile.end();
    await Promise.all([finished(stdoutFile), finished(stderrFile)]).catch(() => undefined);
    if (signal.aborted) throw cancellationError(signal);
    const result = { stdoutTail: stdoutTail.lines(), stderrTail: stderrTail.lines() };
    if (code === 0) return result;
    const how = exitSignal ? `was killed by ${exitSignal}` : `exited with code ${code}`;
    throw ApplicationFailure.create({
      type: ErrorType.AnalysisFailed,
      message: `${program} ${how} after ${elapsed()} s${result.stderrTail.length ? `; stderr:\n${result.stderrTail.join('\n')}` : ''}`,
      details: [{ exit_code: code, signal: exitSignal, stderr_tail: result.stderrTail }],
      nonRetryable: false,
    });
  } finally {
    clearInterval(beat);
    clearTimeout(killTimer);
    signal.removeEventListener('abort', onAbort);
    if (child.pid !== undefined) runningGroups.delete(child.pid);
    stdoutFile.end();
    stderrFile.end();
    options.log('command output', { stdout_tail: stdoutTail.lines(), stderr_tail: stderrTail.lines() });
  }
}
