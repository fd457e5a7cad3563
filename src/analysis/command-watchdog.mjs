// Runs one command analysis for a worker (see command.ts) and makes sure the program never outlives
// that worker. A worker killed with SIGKILL runs no exit handler, and a program left running would
// overlap the retry of its task on another worker; this watchdog notices the worker's death on its
// own. Plain JavaScript, run by `node` without tsx, so it starts in a few tens of milliseconds.
//
// The worker starts it detached, so it leads a process group of its own that the program and all
// its children join. Over the IPC channel it receives the program to run and answers with the
// program's pid, then with how the program ended. The channel also tells it when the worker is
// gone: the kernel closes the worker's end however it died, and `disconnect` fires. It never
// writes to stdout or stderr: those belong to the program, which inherits them.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import {
  TreeMeter,
  TICKS_PER_SECOND,
  markReader,
  parseStat,
  readMemory,
  readProcesses,
} from './process-tree.mjs';

const group = process.pid;
/** Set once the worker said what to run. */
let spec;
let program;
let terminating = false;

function killGroup(signal) {
  try {
    process.kill(-group, signal);
  } catch {
    // The group is already gone.
  }
}

/**
 * SIGTERM to the whole group, once: the copy this process gets from its own kill comes back here
 * and is ignored, so every process sees exactly one SIGTERM however the stop was asked for. After
 * the grace period the program gets SIGKILL; it is this process's child, so it is reaped (gone,
 * not a zombie) before the worker hears that it ended.
 */
function terminate() {
  if (terminating) return;
  terminating = true;
  if (spec?.stop && program) return stopOutside();
  killGroup('SIGTERM');
  if (program) setTimeout(() => program.kill('SIGKILL'), spec.killGraceMs).unref();
}

/**
 * A program that only drives what runs elsewhere (a container runtime's client: the container
 * itself is a child of the runtime's monitor, not of this group) is stopped by the command the
 * worker gave for it, which gets the grace period itself. That command runs detached, in a group of
 * its own, so that the group kill that ends this process does not cut it short; the program follows
 * once what it drove is gone, or is killed a little later.
 */
function stopOutside() {
  const [stopProgram, ...stopArgs] = spec.stop;
  try {
    spawn(stopProgram, stopArgs, { env: spec.env, detached: true, stdio: 'ignore' })
      .on('error', () => undefined)
      .unref();
  } catch {
    // Nothing more can be done from here; the program's kill below still ends the run.
  }
  setTimeout(() => program.kill('SIGKILL'), spec.killGraceMs + STOP_SLACK_MS).unref();
}

/** How long after the stop command's grace period the program is killed if still running. */
const STOP_SLACK_MS = 3000;

/**
 * Tells the worker how the program ended, then SIGKILLs the group, this process included: whatever
 * the program left behind (daemons, a child that ignored SIGTERM) goes too, even when the worker
 * dies at this very moment. A worker already gone only skips the report.
 */
function reportAndEnd(message) {
  killStrays();
  if (process.connected) process.send(message, () => killGroup('SIGKILL'));
  else killGroup('SIGKILL');
}

/**
 * How often the program's process tree is looked at, for its memory and its daemons' CPU. A look
 * reads every process's stat (a few milliseconds for a hundred processes); on a machine with very
 * many processes the looks space out so that they never take more than about 2% of a core.
 */
const SAMPLE_MS = 150;
const SAMPLE_SHARE = 50;
/**
 * Every process of the run inherits this variable, so a daemon whose parent is gone before any look
 * saw it is still found (see process-tree.mjs).
 */
const MARK_VALUE = `${group}-${randomBytes(6).toString('hex')}`;
let meter;
let marks;

/** One look at the program's tree; stops looking for good where there is no /proc. */
function sample() {
  if (!meter) return 0;
  const began = performance.now();
  try {
    const processes = readProcesses();
    meter.observe(processes, marks.isMarked, readMemory);
    marks.prune(processes);
  } catch {
    meter = undefined;
  }
  return performance.now() - began;
}

/**
 * SIGKILL to every member of the run that a last look finds, the ones that left its group (a
 * daemon that called setsid) among them: the group kill does not reach those, and a run that ended
 * or was cancelled must leave nothing running. Members are found as the looks find them, by the
 * mark and as children of members; the group kill that follows takes the rest.
 */
function killStrays() {
  if (!meter) return;
  try {
    for (const pid of meter.observe(readProcesses(), marks.isMarked, readMemory)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
  } catch {
    // No /proc: the group kill is all there is.
  }
}

let sampler;
function sampleNow() {
  const took = sample();
  if (meter) sampler = setTimeout(sampleNow, Math.max(SAMPLE_MS, took * SAMPLE_SHARE));
}

/**
 * What the program's whole tree used, once the program has been reaped: the CPU time of the
 * children this process waited for (the program, and what it waited for in turn) from
 * /proc/self/stat, plus what the looks at the tree saw of members nobody waited for; and the peak of
 * the tree's summed resident memory. Undefined where /proc does not exist.
 */
function usage() {
  try {
    const own = parseStat(readFileSync('/proc/self/stat', 'utf8'));
    sample();
    const ticks = own.cutime + own.cstime + (meter ? meter.unwaitedTicks() : 0);
    const peakKib = meter?.peakMemoryKib();
    return {
      cpu_time_s: ticks / TICKS_PER_SECOND,
      ...(peakKib ? { peak_memory_mib: Math.round((peakKib / 1024) * 10) / 10 } : {}),
    };
  } catch {
    return undefined;
  }
}

function start(message) {
  spec = message;
  // Asked to stop before it started: report the program as stopped the way it would have been.
  if (terminating) return reportAndEnd({ type: 'exit', code: null, signal: 'SIGTERM' });
  try {
    program = spawn(spec.program, spec.args, {
      env: { ...spec.env, ANALYSIS_RUN_MARK: MARK_VALUE },
      shell: false,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  } catch (err) {
    return reportAndEnd({ type: 'spawn-error', code: err.code, message: err.message });
  }
  let failed = false;
  // ENOENT and EACCES come here, not as an exception; the worker turns them into "Cannot run".
  program.once('error', (err) => {
    failed = true;
    reportAndEnd({ type: 'spawn-error', code: err.code, message: err.message });
  });
  if (program.pid !== undefined && process.connected)
    process.send({ type: 'started', pid: program.pid }, () => undefined);
  if (program.pid !== undefined) {
    meter = new TreeMeter(group);
    marks = markReader(`ANALYSIS_RUN_MARK=${MARK_VALUE}`);
  }
  sampleNow();
  // The report carries the program's code or signal as they are: this process could not mirror
  // every signal by dying of it (node ignores SIGPIPE, SIGUSR1 starts its inspector).
  program.once('exit', (code, signal) => {
    clearTimeout(sampler);
    if (!failed) reportAndEnd({ type: 'exit', code, signal, usage: usage() });
  });
}

process.on('SIGTERM', terminate);
process.once('message', start);
process.once('disconnect', () => {
  // Gone before it said what to run: there is nothing to stop.
  if (!spec) process.exit(1);
  // The worker died: stop the group as a cancellation would.
  terminate();
});
