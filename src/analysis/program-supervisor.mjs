// One per worker, for as long as the worker runs command analyses (see supervisor.ts): it makes
// sure no program outlives that worker, and measures what each program's process tree used. A
// worker killed with SIGKILL runs no exit handler, and a program left running would overlap the
// retry of its task on another worker; this process notices the worker's death on its own: the
// kernel closes the worker's end of the IPC channel however it died, and `disconnect` fires.
//
// The worker starts each program itself, in a session and process group of its own, held at a
// gate until this process has it in view (supervisor.ts), so there is no moment at which a program
// runs unwatched. Plain JavaScript, run by `node` without tsx. It never writes to stdout.
//
// Messages from the worker:
//   { type: 'watch', id, pid, mark, stop?, stopEnv?, killGraceMs }  answered { type: 'watching', id }
//   { type: 'end', id }   after the program was reaped; answered { type: 'ended', id, usage? }
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { TreeMeter, TICKS_PER_SECOND, markReader, readMemory, readProcesses } from './process-tree.mjs';

/** The variable every process of a run inherits, holding that run's mark (see process-tree.mjs). */
const MARK = 'ANALYSIS_RUN_MARK';
/**
 * How often the programs' trees are looked at, for their memory and their daemons' CPU. One look
 * reads every process's stat once for all runs (a few milliseconds for a hundred processes); on a
 * machine with very many processes the looks space out so that they never take more than about 2%
 * of a core.
 */
const SAMPLE_MS = 150;
const SAMPLE_SHARE = 50;
/** How long after its grace period a stop command gets before the program's group is killed. */
const STOP_SLACK_MS = 3000;

const worker = process.ppid;
/** id -> { pid, mark, stop, stopEnv, killGraceMs, meter, lookedAt } */
const runs = new Map();
const marks = markReader(MARK);
let measuring = true;
let sampler;

function kill(pid, signal) {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * One look at every run's tree; returns each run's members. Stops measuring for good where there
 * is no /proc (the guard still works: it needs only the process groups).
 */
function look(only) {
  const found = new Map();
  if (!measuring) return found;
  let processes;
  try {
    processes = readProcesses();
  } catch {
    measuring = false;
    return found;
  }
  const now = performance.now();
  for (const [id, run] of only ?? runs) {
    const members = run.meter.observe(processes, (p) => marks.markOf(p) === run.mark, readMemory);
    run.lookedAt = now;
    found.set(id, members);
  }
  marks.prune(processes);
  return found;
}

function sampleNow() {
  sampler = undefined;
  if (!runs.size || !measuring) return;
  const began = performance.now();
  look();
  const took = performance.now() - began;
  sampler = setTimeout(sampleNow, Math.max(SAMPLE_MS, took * SAMPLE_SHARE));
}

/**
 * SIGKILL to every member of a run that a last look found, the ones that left its group (a daemon
 * that called setsid) among them, then to the group: a run that ended must leave nothing running.
 * The group id cannot have been reused while any member holds it.
 */
function killRun(run, members) {
  for (const pid of members ?? []) if (pid !== worker) kill(pid, 'SIGKILL');
  kill(-run.pid, 'SIGKILL');
}

function watch(message) {
  runs.set(message.id, {
    pid: message.pid,
    mark: message.mark,
    stop: message.stop,
    stopEnv: message.stopEnv,
    killGraceMs: message.killGraceMs,
    meter: new TreeMeter(message.pid, worker),
    lookedAt: performance.now(),
  });
  process.send({ type: 'watching', id: message.id }, () => undefined);
  if (!sampler) sampler = setTimeout(sampleNow, SAMPLE_MS);
}

/** The program has been reaped: a last look, then whatever it left behind goes. */
function end(message) {
  const run = runs.get(message.id);
  if (!run) {
    process.send({ type: 'ended', id: message.id }, () => undefined);
    return;
  }
  // What the program's own reaping may add beyond the last look that saw it (supervisor.ts).
  const sinceLookS = (performance.now() - run.lookedAt) / 1000;
  const members = look(new Map([[message.id, run]])).get(message.id);
  killRun(run, members);
  runs.delete(message.id);
  let usage;
  if (measuring) {
    const { leader, bound } = run.meter.waitedTicks();
    usage = {
      unwaited_s: run.meter.unwaitedTicks() / TICKS_PER_SECOND,
      waited_s: leader / TICKS_PER_SECOND,
      waited_bound_s: bound / TICKS_PER_SECOND,
      since_look_s: sinceLookS,
      peak_memory_kib: run.meter.peakMemoryKib(),
    };
  }
  process.send({ type: 'ended', id: message.id, usage }, () => undefined);
}

/**
 * The worker is gone: every program is stopped as a cancellation would stop it. SIGTERM to each
 * run's group, exactly once (this process is in none of them), or the stop command a run gave for
 * work that runs elsewhere (a container); after the grace period, SIGKILL to each group and to every
 * member a look finds. This process leaves as soon as nothing of any run is left.
 */
function workerGone() {
  clearTimeout(sampler);
  if (!runs.size) process.exit(0);
  let longest = 0;
  for (const run of runs.values()) {
    if (run.stop) {
      const [program, ...args] = run.stop;
      try {
        spawn(program, args, { env: run.stopEnv, detached: true, stdio: 'ignore' })
          .on('error', () => undefined)
          .unref();
      } catch {
        // Nothing more can be done for it; the group's SIGKILL below still ends the client.
      }
    } else kill(-run.pid, 'SIGTERM');
    longest = Math.max(longest, run.killGraceMs + (run.stop ? STOP_SLACK_MS : 0));
  }
  const began = performance.now();
  const check = () => {
    const members = look();
    const over = performance.now() - began >= longest;
    let left = 0;
    for (const [id, run] of runs) {
      const alive = members.get(id)?.size ?? (kill(-run.pid, 0) ? 1 : 0);
      if (over) killRun(run, members.get(id));
      else left += alive;
    }
    if (over || !left) process.exit(0);
    setTimeout(check, 100);
  };
  setTimeout(check, 100);
}

process.on('message', (message) => {
  if (message.type === 'watch') watch(message);
  else if (message.type === 'end') end(message);
});
process.once('disconnect', workerGone);
// Signals meant for the worker's terminal or group do not reach this process (it leads a session of
// its own); one sent to it directly must not leave the programs unguarded while the worker lives.
process.on('SIGTERM', () => undefined);
process.on('SIGINT', () => undefined);
