import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

/**
 * The worker's one supervisor process (program-supervisor.mjs): it stops every command analysis
 * the worker runs as soon as the worker is gone, however it died, and measures their process trees.
 * Started with the first command run and kept for the worker's life; its IPC channel holds the
 * worker's event loop only while a program is watched.
 */
const PROGRAM = join(__dirname, 'program-supervisor.mjs');

/** How long the worker waits for the supervisor's account of an ended program. */
const END_TIMEOUT_MS = 5000;

export interface Watch {
  /** The program: leader of its own session and process group, held at its gate meanwhile. */
  pid: number;
  /** The value of ANALYSIS_RUN_MARK in the program's environment. */
  mark: string;
  /** For work that runs outside the program's tree: the command that stops it, and its env. */
  stop?: string[];
  stopEnv?: Record<string, string>;
  killGraceMs: number;
}

/** What the supervisor's looks saw of a program's tree (program-supervisor.mjs `end`). */
export interface WatchedUsage {
  unwaited_s: number;
  waited_s: number;
  waited_bound_s: number;
  since_look_s: number;
  peak_memory_kib: number;
}

type Reply = { type: 'watching'; id: number } | { type: 'ended'; id: number; usage?: WatchedUsage };

class ProgramSupervisor {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly waiting = new Map<number, (reply: Reply | undefined) => void>();
  private readonly watched = new Map<number, Watch>();

  private start(): ChildProcess {
    if (this.child) return this.child;
    // Detached: it leads a session of its own, so that a signal for the worker's group or terminal
    // (Ctrl-C) does not end it before the worker. No environment: it needs none.
    const child = spawn(process.execPath, [PROGRAM], {
      detached: true,
      env: {},
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    child.unref();
    let answered = false;
    child.on('message', (reply: Reply) => {
      answered = true;
      const resolve = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      resolve?.(reply);
      this.holdLoop();
    });
    const gone = () => {
      if (this.child !== child) return;
      this.child = undefined;
      for (const resolve of this.waiting.values()) resolve(undefined);
      this.waiting.clear();
      // Programs still running would be unguarded: a new supervisor takes them over. One that died
      // before it ever answered is not started again and again; the next run tries afresh.
      if (answered) for (const [id, watch] of this.watched) void this.send({ type: 'watch', id, ...watch });
      this.holdLoop();
    };
    child.once('exit', gone);
    child.once('error', gone);
    this.child = child;
    return child;
  }

  private send(message: { type: string; id: number }): Promise<Reply | undefined> {
    const child = this.start();
    return new Promise((resolve) => {
      this.waiting.set(message.id, resolve);
      this.holdLoop();
      child.send(message, (err) => {
        if (!err) return;
        this.waiting.delete(message.id);
        resolve(undefined);
        this.holdLoop();
      });
    });
  }

  /** The channel keeps the worker alive only while it has something to guard or to hear. */
  private holdLoop(): void {
    const channel = this.child?.channel;
    if (!channel) return;
    if (this.watched.size || this.waiting.size) channel.ref();
    else channel.unref();
  }

  /** Resolves once the supervisor has the program in view; throws when it cannot be started. */
  async watch(watch: Watch): Promise<number> {
    const id = this.nextId++;
    this.watched.set(id, watch);
    const reply = await this.send({ type: 'watch', id, ...watch });
    if (!reply) {
      this.watched.delete(id);
      throw new Error('Cannot start the program supervisor (a node process beside the worker)');
    }
    return id;
  }

  /**
   * The program has been reaped: the supervisor takes a last look, kills whatever it left behind,
   * and tells what the tree used. Undefined when it could not say (no /proc, or it is gone).
   */
  async end(id: number): Promise<WatchedUsage | undefined> {
    if (!this.watched.delete(id)) return undefined;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => {
        this.waiting.delete(id);
        this.holdLoop();
        resolve(undefined);
      }, END_TIMEOUT_MS);
    });
    const reply = await Promise.race([this.send({ type: 'end', id }), timeout]);
    clearTimeout(timer);
    return reply?.type === 'ended' ? reply.usage : undefined;
  }
}

export const supervisor = new ProgramSupervisor();

/**
 * The CPU time the worker's counters gained from the children it reaped (Linux: cutime and cstime
 * of /proc/self/stat, in ticks of 1/100 s), or undefined where there is no /proc.
 */
function reapedTicks(): number | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[13]) + Number(fields[14]);
  } catch {
    return undefined;
  }
}

let reapedBefore = reapedTicks();

/**
 * Marks a program's start: what the worker reaps from now on may be that program's. Read again when
 * a program ends (`reapedSinceMark`), the gain is exactly that program's tree (itself and the
 * children it waited for) unless something else was reaped in between, which `programCpu` checks
 * against what the supervisor saw.
 */
export function markReaped(): void {
  reapedBefore = reapedTicks();
}

/** Seconds of CPU the worker reaped since the last mark, read as a program's exit is handled. */
export function reapedSinceMark(): number | undefined {
  const now = reapedTicks();
  const gained = now === undefined || reapedBefore === undefined ? undefined : (now - reapedBefore) / 100;
  reapedBefore = now;
  return gained;
}

const CORES = availableParallelism();
/** Time a member's CPU may go unseen beyond the last look: two of the supervisor's intervals. */
const UNSEEN_S = 0.3;

/**
 * A program tree's CPU time: what nobody in the tree waited for, as the supervisor last saw it,
 * plus the program's own part. That part is the worker's reaped gain when it fits what the looks
 * saw (no less than the program's last look, no more than its tree could have spent since), and
 * the last look's otherwise (two programs ended at once, or another child was reaped meanwhile).
 */
export function programCpu(usage: WatchedUsage, reaped: number | undefined): number {
  // A member may have ended a look or two before the last one, its final share unseen.
  const most = usage.waited_bound_s + (usage.since_look_s + UNSEEN_S) * CORES;
  const fits = reaped !== undefined && reaped >= usage.waited_s - 0.01 && reaped <= most;
  return Math.round(((fits ? reaped : usage.waited_s) + usage.unwaited_s) * 100) / 100;
}
