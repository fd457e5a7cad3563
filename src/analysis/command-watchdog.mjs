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
import { readFileSync } from 'node:fs';

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
  killGroup('SIGTERM');
  if (program) setTimeout(() => program.kill('SIGKILL'), spec.killGraceMs).unref();
}

/**
 * Tells the worker how the program ended, then SIGKILLs the group, this process included: whatever
 * the program left behind (daemons, a child that ignored SIGTERM) goes too, even when the worker
 * dies at this very moment. A worker already gone only skips the report.
 */
function reportAndEnd(message) {
  if (process.connected) process.send(message, () => killGroup('SIGKILL'));
  else killGroup('SIGKILL');
}

/** Linux reports process times in clock ticks of this many per second (USER_HZ). */
const TICKS_PER_SECOND = 100;
const SAMPLE_MS = 200;
let peakKib;

/** Peak resident memory of the program so far (VmHWM), where /proc tells it. */
function samplePeak(pid) {
  try {
    const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (match) peakKib = Math.max(peakKib ?? 0, Number(match[1]));
  } catch {
    // Not Linux, or the program is gone already.
  }
}

/**
 * What the program used, read once it has been reaped: the CPU time of the children this process
 * waited for (the program, and what it waited for in turn) from /proc/self/stat, and the peak
 * memory sampled while it ran. Undefined where /proc does not exist.
 */
function usage() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const childTicks = Number(fields[13]) + Number(fields[14]); // cutime, cstime
    return {
      cpu_time_s: childTicks / TICKS_PER_SECOND,
      ...(peakKib !== undefined ? { peak_memory_mib: Math.round((peakKib / 1024) * 10) / 10 } : {}),
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
      env: spec.env,
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
  const pid = program.pid;
  const sampler = pid === undefined ? undefined : setInterval(() => samplePeak(pid), SAMPLE_MS);
  if (pid !== undefined) samplePeak(pid);
  // The report carries the program's code or signal as they are: this process could not mirror
  // every signal by dying of it (node ignores SIGPIPE, SIGUSR1 starts its inspector).
  program.once('exit', (code, signal) => {
    clearInterval(sampler);
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
