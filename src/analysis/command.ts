import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { ErrorType, nonRetryable } from '../errors';
import { OutputCapture } from './output-capture';

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
  /**
   * For a program whose work runs outside its process tree (a container runtime's client): the
   * command that stops that work, run instead of the SIGTERM on cancellation and when the worker
   * dies. It gets the grace period; the program is killed a little after it.
   */
  stop?: string[];
}

/** What a program used, where the platform tells (Linux). */
export interface ProgramUsage {
  cpu_time_s: number;
  peak_memory_mib?: number;
}

export interface CommandResult {
  stdoutTail: string[];
  stderrTail: string[];
  usage?: ProgramUsage;
}

/** The error an abort should surface as: Temporal's own CancelledFailure when it gave one. */
export function cancellationError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new CancelledFailure('Analysis cancelled');
}

/**
 * Every program runs under this watchdog, which leads the program's process group (so the
 * program's children die with it) and stops that group when the worker dies, even of SIGKILL.
 */
const WATCHDOG = join(__dirname, 'command-watchdog.mjs');

/** What the watchdog reports over its IPC channel. */
type WatchdogMessage =
  | { type: 'started'; pid: number }
  | { type: 'spawn-error'; code?: string; message: string }
  | { type: 'exit'; code: number | null; signal: NodeJS.Signals | null; usage?: ProgramUsage };

// A worker that exits normally kills the groups at once, without the watchdogs' grace period.
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

/** How long after the watchdog's own SIGKILL the worker kills the group itself. */
const WATCHDOG_SLACK_MS = 2000;
/** The watchdog's own wait for a stop command beyond the grace period (command-watchdog.mjs). */
const STOP_SLACK_MS = 3000;

/**
 * Runs a program without a shell and resolves when it exits 0. A non-zero exit is a retryable
 * failure carrying the stderr tail; a missing program is permanent; an abort sends SIGTERM to the
 * process group, then SIGKILL after the grace period, and rejects with a cancellation. The program
 * never outlives the worker: its watchdog stops it (SIGTERM, SIGKILL after the grace period) as
 * soon as the worker is gone, however it died.
 */
export async function runProgram(options: CommandOptions): Promise<CommandResult> {
  const { program, signal, heartbeat } = options;
  if (signal.aborted) throw cancellationError(signal);
  // Bounded however much the program writes: a log file's head, a tail in memory (output-capture.ts).
  const stdoutFile = new OutputCapture(options.stdoutPath);
  const stderrFile = new OutputCapture(options.stderrPath);
  const stdoutTail = stdoutFile.tail;
  const stderrTail = stderrFile.tail;
  const started = Date.now();
  const killGraceMs = options.killGraceMs ?? 5000;
  // The program inherits the watchdog's stdout and stderr, so its output comes straight here. The
  // watchdog gets no environment: the program's own (NODE_OPTIONS, say) is not meant for it.
  const child = spawn(process.execPath, [WATCHDOG], {
    cwd: options.cwd,
    env: {},
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  }) as ChildProcessByStdio<null, Readable, Readable>; // node's typings stop at three stdio entries
  // A watchdog that died at once reports nothing; its exit says so below.
  child.send(
    { program, args: options.args, env: options.env, killGraceMs, stop: options.stop },
    () => undefined,
  );
  let programPid: number | undefined;
  let report: WatchdogMessage | undefined;
  child.on('message', (message: WatchdogMessage) => {
    if (message.type === 'started') programPid = message.pid;
    else report = message;
  });
  child.stdout.pipe(stdoutFile);
  child.stderr.pipe(stderrFile);

  let exited = false;
  let killTimer: NodeJS.Timeout | undefined;
  const onAbort = () => {
    const pid = child.pid;
    if (pid === undefined || exited) return;
    // The watchdog passes SIGTERM on to the whole group, exactly once to each process in it, and
    // SIGKILLs the program after the grace period. Should it be unable to (stopped, wedged), the
    // group gets SIGKILL from here a little later.
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // The watchdog is already gone, and its group with it.
    }
    const slack = WATCHDOG_SLACK_MS + (options.stop ? STOP_SLACK_MS : 0);
    killTimer = setTimeout(() => !exited && killGroup(pid, 'SIGKILL'), killGraceMs + slack);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  const elapsed = () => Math.round((Date.now() - started) / 1000);
  heartbeat({ program, elapsed_s: 0 });
  const beat = setInterval(
    () => heartbeat({ program, pid: programPid, elapsed_s: elapsed() }),
    options.heartbeatIntervalMs ?? 5000,
  );
  // A run with a stop command is left to its watchdog when the worker exits: killing the group
  // from here would stop the watchdog before it could give that command.
  if (child.pid !== undefined && !options.stop) runningGroups.add(child.pid);

  try {
    const [code, exitSignal] = await new Promise<[number | null, NodeJS.Signals | null]>(
      (resolve, reject) => {
        // Node itself could not be started: a problem of this machine, not of the program.
        child.once('error', (err) =>
          reject(new Error(`Cannot start the command watchdog: ${err.message}`, { cause: err })),
        );
        // The watchdog's report is the program's fate; without one (the watchdog itself was
        // killed, with the whole group, say) the watchdog's own end is the best account there is.
        child.once('close', (exitCode: number | null, killedBy: NodeJS.Signals | null) => {
          if (report?.type === 'spawn-error')
            reject(Object.assign(new Error(report.message), { code: report.code }));
          else if (report?.type === 'exit') resolve([report.code, report.signal]);
          else resolve([exitCode, killedBy]);
        });
        child.once('exit', () => {
          exited = true;
          // Whatever the program left in its group (daemons, a child that ignored SIGTERM) goes too.
          // The watchdog's last act does that already; this covers a watchdog that died first, and
          // runs at once, while the group id cannot yet have been reused.
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
    const result: CommandResult = {
      stdoutTail: stdoutTail.lines(),
      stderrTail: stderrTail.lines(),
      ...(report?.type === 'exit' && report.usage ? { usage: report.usage } : {}),
    };
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
