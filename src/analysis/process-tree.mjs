// What a command analysis used, counted over its whole process tree from /proc (Linux only). Plain
// JavaScript, shared by the worker's supervisor (program-supervisor.mjs), which runs without tsx.
//
// The kernel's own counters fall short for a tree: a parent's cutime/cstime hold only the children
// it waited for, and VmHWM is one process's peak. So the supervisor looks at the tree every few
// hundred milliseconds: the sum of the members' resident memory at each look gives the peak, and
// the CPU time last seen of every member nobody in the tree will wait for (a child reparented to
// init, a daemon, a child still running when the program ends) is added to what the worker's own
// counters gain when it reaps the program.
//
// A process belongs to the tree when it is the program, descends from it (a parent that belongs),
// is in the program's session or process group, was seen belonging before, or carries the run's
// mark in its environment: the mark is what finds a daemon whose parent left before any look saw it.
import { readFileSync, readdirSync } from 'node:fs';

/** Linux reports process times in clock ticks of this many per second (USER_HZ). */
export const TICKS_PER_SECOND = 100;

/**
 * The fields of `/proc/<pid>/stat` used here. Fields are counted after the command name, which is
 * in parentheses and may hold spaces and parentheses itself, so the last ')' ends it.
 */
export function parseStat(text) {
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).split(' ');
  const number = (index) => Number(fields[index]);
  return {
    pid: Number(text.slice(0, text.indexOf(' '))),
    state: fields[0],
    ppid: number(1),
    pgrp: number(2),
    session: number(3),
    utime: number(11),
    stime: number(12),
    cutime: number(13),
    cstime: number(14),
    starttime: fields[19],
  };
}

/** A pid with its start time, so that a pid the kernel reuses is not taken for the one before. */
const keyOf = (process) => `${process.pid}@${process.starttime}`;

/** Kilobytes of a `/proc/<pid>/status` line such as `VmRSS:  1234 kB`, or undefined. */
export function statusKib(status, field) {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) : undefined;
}

/** The value of `name` in a `/proc/<pid>/environ` text (NUL-separated), or undefined. */
export function environValue(environ, name) {
  const key = `${name}=`;
  const at = environ.startsWith(key) ? 0 : environ.indexOf(`\0${key}`) + 1;
  if (at === 0 && !environ.startsWith(key)) return undefined;
  const from = at + key.length;
  const to = environ.indexOf('\0', from);
  return environ.slice(from, to === -1 ? undefined : to);
}

/**
 * Keeps what the looks at one run's tree found; pure, fed with parsed stats, so tests can give it
 * any tree. `leader` is the program, which leads its own session and process group; `waiter` is
 * the process that started it and will reap it (the worker), which is never a member: what the
 * program's reaping adds to the waiter's counters is the waiter's to read.
 */
export class TreeMeter {
  constructor(leader, waiter) {
    this.leader = leader;
    this.waiter = waiter;
    /** key -> { ticks, root, alive }: the last look at each member. */
    this.members = new Map();
    this.leaderKey = undefined;
    this.peakKib = 0;
    this.hwmKib = 0;
  }

  /**
   * One look: `processes` are every process's parsed stat, `isMarked(process)` says whether it
   * carries the run's mark, `memory(process)` gives `{ rssKib, hwmKib }` or undefined. Returns the
   * members' pids.
   */
  observe(processes, isMarked, memory) {
    const { leader, waiter } = this;
    const member = new Set();
    const children = new Map();
    for (const process of processes) {
      if (process.pid === waiter) continue;
      const siblings = children.get(process.ppid);
      if (siblings) siblings.push(process);
      else children.set(process.ppid, [process]);
      const isLeader = process.pid === leader && process.ppid === waiter;
      if (isLeader) this.leaderKey ??= keyOf(process);
      if (
        isLeader ||
        process.session === leader ||
        process.pgrp === leader ||
        this.members.has(keyOf(process)) ||
        isMarked(process)
      )
        member.add(process.pid);
    }
    const queue = [...member];
    while (queue.length) {
      for (const child of children.get(queue.pop()) ?? []) {
        if (member.has(child.pid)) continue;
        member.add(child.pid);
        queue.push(child.pid);
      }
    }
    for (const entry of this.members.values()) entry.alive = false;
    let rssKib = 0;
    for (const process of processes) {
      if (!member.has(process.pid)) continue;
      this.members.set(keyOf(process), {
        ticks: process.utime + process.stime + process.cutime + process.cstime,
        // Nobody in the tree will wait for it: its parent left the tree (or is init).
        root: !(member.has(process.ppid) || process.ppid === waiter),
        alive: true,
      });
      if (process.state === 'Z') continue;
      const used = memory(process);
      if (!used) continue;
      rssKib += used.rssKib ?? 0;
      this.hwmKib = Math.max(this.hwmKib, used.hwmKib ?? 0);
    }
    this.peakKib = Math.max(this.peakKib, rssKib);
    return member;
  }

  /**
   * Clock ticks the tree used that the waiter's counters will not hold: every member last seen
   * with nobody of the tree to wait for it, and every member still running at this final look
   * (its parent has not waited for it yet). A member that ended between looks is credited up to the
   * last look that saw it.
   */
  unwaitedTicks() {
    let ticks = 0;
    for (const entry of this.members.values()) if (entry.root || entry.alive) ticks += entry.ticks;
    return ticks;
  }

  /**
   * What the looks saw of the part the waiter will reap: the program's own ticks and its waited-for
   * children's (`leader`), and at most what its members that someone in the tree waits for may still
   * add to that (`bound`, an over-estimate: a child already waited for counts twice).
   */
  waitedTicks() {
    let bound = 0;
    for (const entry of this.members.values()) if (!entry.root) bound += entry.ticks;
    const leader = this.leaderKey ? (this.members.get(this.leaderKey)?.ticks ?? 0) : 0;
    return { leader, bound };
  }

  /** The peak of the summed resident memory, never below the largest single peak (VmHWM) seen. */
  peakMemoryKib() {
    return Math.max(this.peakKib, this.hwmKib);
  }
}

/** Every process's stat now; throws where there is no /proc. */
export function readProcesses() {
  const processes = [];
  for (const name of readdirSync('/proc')) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue;
    try {
      processes.push(parseStat(readFileSync(`/proc/${name}/stat`, 'utf8')));
    } catch {
      // Gone between the listing and the read.
    }
  }
  return processes;
}

/** A process's resident and peak memory, or undefined once it is gone. */
export function readMemory(process) {
  try {
    const status = readFileSync(`/proc/${process.pid}/status`, 'utf8');
    return { rssKib: statusKib(status, 'VmRSS'), hwmKib: statusKib(status, 'VmHWM') };
  } catch {
    return undefined;
  }
}

/**
 * The run marks of processes: reads a process's environment once (another user's is unreadable,
 * so never marked) and remembers the value of `name` there while that process lives. One reader
 * serves every run of a worker, so each process's environment is read once, not once a run.
 */
export function markReader(name) {
  const known = new Map();
  const markOf = (process) => {
    const key = keyOf(process);
    if (known.has(key)) return known.get(key);
    let mark;
    try {
      mark = environValue(readFileSync(`/proc/${process.pid}/environ`, 'latin1'), name);
    } catch {
      mark = undefined;
    }
    known.set(key, mark);
    return mark;
  };
  /** Forgets processes that are gone. */
  const prune = (processes) => {
    const alive = new Set(processes.map(keyOf));
    for (const key of known.keys()) if (!alive.has(key)) known.delete(key);
  };
  return { markOf, prune };
}
