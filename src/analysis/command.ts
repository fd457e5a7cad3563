import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { ErrorType, nonRetryable } from '../errors';
import { OutputCapture } from './output-capture';
import { markReaped, programCpu, reapedSinceMark, supervisor } from './supervisor';

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
 * Every program starts behind this gate, `sh` reading one line from descriptor 3: it goes on, by
 * exec (the same process, no shell left), only once the worker's supervisor has it in view, so it
 * never runs unguarded; when the worker dies first, the gate reads nothing and exits. The program's
 * arguments stay arguments: the shell never parses them.
 */
const GATE = 'read -r go <&3 && [ "$go" = go ] || exit 125; exec "$0" "$@" 3<&-';

// A worker that exits normally kills the groups at once, without the supervisor's grace period.
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
/** How long after the grace period a stop command gets before the program's group is killed. */
const STOP_SLACK_MS = 3000;

/**
 * The file `program` names, found as exec would find it (a name with a slash as it is, else the
 * first match on PATH), so that a missing or unusable program is named before anything starts.
 */
function resolveProgram(program: string, path: string | undefined, cwd: string): string {
  const fail = (why: string) => nonRetryable(ErrorType.CommandNotFound, `Cannot run "${program}": ${why}`);
  const executable = (file: string) => {
    try {
      if (!statSync(file).isFile()) return false;
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  // Relative to the folder the program runs in, as exec there would take it.
  if (program.includes('/')) {
    const file = resolve(cwd, program);
    if (!existsSync(file)) throw fail('not found');
    if (!executable(file)) throw fail('not executable');
    return file;
  }
  let found = false;
  for (const dir of (path ?? '').split(':')) {
    const file = resolve(cwd, dir, program);
    if (executable(file)) return file;
    found ||= existsSync(file);
  }
  throw fail(found ? 'not executable' : 'not found');
}

/**
 * Runs a program without a shell and resolves when it exits 0. A non-zero exit is a retryable
 * failure carrying the stderr tail; a missing program is permanent; an abort sends SIGTERM to the
 * process group (or runs the stop command), then SIGKILL after the grace period, and rejects with a
 * cancellation. The program never outlives the worker: the worker's supervisor stops it (SIGTERM,
 * SIGKILL after the grace period) as soon as the worker is gone, however it died.
 */
export async function runProgram(options: CommandOptions): Promise<CommandResult> {
  const { program, signal, heartbeat } = options;
  if (signal.aborted) throw cancellationError(signal);
  const file = resolveProgram(program, options.env.PATH, options.cwd);
  // Bounded however much the program writes: a log file's head, a tail in memory (output-capture.ts).
  const stdoutFile = new OutputCapture(options.stdoutPath);
  const stderrFile = new OutputCapture(options.stderrPath);
  const stdoutTail = stdoutFile.tail;
  const stderrTail = stderrFile.tail;
  const started = Date.now();
  const killGraceMs = options.killGraceMs ?? 5000;
  // Every process of the run inherits the mark, so that the supervisor finds even a daemon whose
  // parent left before it looked (process-tree.mjs).
  const mark = `${process.pid}-${randomBytes(6).toString('hex')}`;
  markReaped();
  // Detached: the program leads a session and process group of its own, which its children join.
  const child = spawn('/bin/sh', ['-c', GATE, file, ...options.args], {
    cwd: options.cwd,
    env: { ...options.env, ANALYSIS_RUN_MARK: mark },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
  }) as ChildProcessByStdio<null, Readable, Readable>; // node's typings stop at three stdio entries
  const gate = child.stdio[3] as Writable;
  gate.on('error', () => undefined);
  const pid = child.pid;
  child.stdout.pipe(stdoutFile);
  child.stderr.pipe(stderrFile);

  let exited = false;
  let reaped: number | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  const ended = new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    // The shell itself could not be started: a problem of this machine, not of the program.
    child.once('error', (err) =>
      reject(new Error(`Cannot start ${program}: ${err.message}`, { cause: err })),
    );
    child.once('exit', (code, killedBy) => {
      exited = true;
      // Read now, while the reaping that just happened is the newest (supervisor.ts).
      reaped = reapedSinceMark();
      setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, PIPE_DRAIN_MS).unref();
      resolve([code, killedBy]);
    });
  });
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));

  const onAbort = () => {
    if (pid === undefined || exited) return;
    if (options.stop) {
      // The work runs elsewhere (a container): its own stop command ends it, and the client with it.
      const [stopProgram = '', ...stopArgs] = options.stop;
      spawn(stopProgram, stopArgs, { env: options.env, detached: true, stdio: 'ignore' })
        .on('error', () => undefined)
        .unref();
    } else killGroup(pid, 'SIGTERM');
    const slack = options.stop ? STOP_SLACK_MS : 0;
    killTimer = setTimeout(() => !exited && killGroup(pid, 'SIGKILL'), killGraceMs + slack);
  };

  let watchId: number | undefined;
  const elapsed = () => Math.round((Date.now() - started) / 1000);
  heartbeat({ program, elapsed_s: 0 });
  const beat = setInterval(
    () => heartbeat({ program, pid, elapsed_s: elapsed() }),
    options.heartbeatIntervalMs ?? 5000,
  );
  // A run with a stop command is left to the supervisor when the worker exits: killing the group
  // from here would end the client before the stop command could run.
  if (pid !== undefined && !options.stop) runningGroups.add(pid);

  try {
    if (pid !== undefined) {
      try {
        watchId = await supervisor.watch({
          pid,
          mark,
          killGraceMs,
          ...(options.stop ? { stop: options.stop, stopEnv: options.env } : {}),
        });
      } catch (err) {
        killGroup(pid, 'SIGKILL');
        throw err;
      }
      // Cancelled while the supervisor was told: the program never starts.
      if (signal.aborted) killGroup(pid, 'SIGKILL');
      else {
        signal.addEventListener('abort', onAbort, { once: true });
        gate.end('go\n');
      }
    }
    const [code, exitSignal] = await ended;
    const watched = watchId === undefined ? undefined : await supervisor.end(watchId);
    watchId = undefined;
    // Whatever the program left in its group goes too, should the supervisor not have done it.
    if (pid !== undefined) killGroup(pid, 'SIGKILL');
    await closed;
    // Every byte has reached the file streams once the child closed; flush them before reading.
    stdoutFile.end();
    stderrFile.end();
    await Promise.all([finished(stdoutFile), finished(stderrFile)]).catch(() => undefined);
    if (signal.aborted) throw cancellationError(signal);
    const usage: ProgramUsage | undefined = watched && {
      cpu_time_s: programCpu(watched, reaped),
      ...(watched.peak_memory_kib
        ? { peak_memory_mib: Math.round((watched.peak_memory_kib / 1024) * 10) / 10 }
        : {}),
    };
    const result: CommandResult = {
      stdoutTail: stdoutTail.lines(),
      stderrTail: stderrTail.lines(),
      ...(usage ? { usage } : {}),
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
    if (watchId !== undefined) void supervisor.end(watchId);
    if (pid !== undefined) runningGroups.delete(pid);
    stdoutFile.end();
    stderrFile.end();
    options.log('command output', { stdout_tail: stdoutTail.lines(), stderr_tail: stderrTail.lines() });
  }
}
