import { setFlagsFromString } from 'node:v8';

/** Node flags that size V8's heap: a user who passes one has chosen, and the worker keeps out. */
const HEAP_FLAGS =
  /--(max[-_]old[-_]space[-_]size|max[-_]semi[-_]space[-_]size|semi[-_]space[-_]growth[-_]factor|max[-_]heap[-_]size|heap[-_]growing[-_]percent)\b/;

/** Whether the user sized V8's heap, on the command line or in NODE_OPTIONS. */
export function userSizedHeap(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? '',
): boolean {
  return execArgv.some((arg) => HEAP_FLAGS.test(arg)) || HEAP_FLAGS.test(nodeOptions);
}

/** How far the old generation may grow past what survived a full collection, in percent. */
const TIGHT_GROWTH = 25;
/** While planning, whose heap grows with what it keeps: a tighter factor costs it a quarter more CPU. */
const PLANNING_GROWTH = 50;

let tuned = false;
let planning = 0;
/** The growing factor set last, in percent; undefined while V8 keeps its own. */
let growth: number | undefined;

function setGrowth(percent: number): void {
  setFlagsFromString(`--heap-growing-percent=${percent}`);
  growth = percent;
}

/** The heap growing factor the worker set last (percent), if any. */
export function heapGrowth(): number | undefined {
  return growth;
}

/**
 * Keeps a worker's V8 heaps near what they hold, unless the user sized the heap themselves.
 *
 * V8 sizes its heap from the machine's memory: on a machine of a few GiB or more it lets the old
 * generation grow to up to four times what survived the last full collection before collecting
 * again, and gives every isolate a new space of 32 MiB. Under a dispatch's load the worker's main
 * thread then carried some 100 MiB of garbage and the workflow thread 30 MiB more (peak resident
 * set 380-440 MiB; measured by bench/worker-memory.ts). The worker is the process the user started,
 * so the flags are set here, at run time, where each takes effect as follows:
 * - the growing factor is read at every full collection, so it takes effect on the running main
 *   thread at its next one, and on every isolate after it. At 1.25 the worker of 3,000 tasks in
 *   jobs of 100 peaked at 279 MiB (308 at 1.5) at the same CPU per task; planning, whose heap grows
 *   with what it keeps, spent a quarter more CPU at 1.25 and a tenth more at 1.5, so it runs at
 *   1.5 (`roomToPlan`);
 * - the new space's size limit is read when an isolate starts, so it sizes the workflow thread that
 *   Worker.create starts after this, not the main thread: that one is held by `holdNewSpace`.
 */
export function tuneHeap(): void {
  if (userSizedHeap()) return;
  tuned = true;
  setGrowth(TIGHT_GROWTH);
  setFlagsFromString('--max-semi-space-size=4');
}

/**
 * Stops V8 from growing the new spaces of the worker's isolates past the size they have, unless the
 * user sized the heap themselves.
 *
 * The main thread's new space is sized when Node starts, before any code of the worker runs, and
 * V8 doubles it from 1 MiB up to 32 MiB while the worker loads its modules and takes on load, then
 * keeps it there: some 30 MiB of the resident set, held by garbage. The growth factor, unlike the
 * size limit, is read at every scavenge, so setting it to 1 (no growth) as the process starts (by
 * bin/analysis.js, before the CLI's modules load) keeps that new space at the few MiB the worker
 * starts with. V8 raises a factor under 2 back to 2 whenever an isolate starts, so the worker sets
 * it again once its workflow thread runs. With 5,000 tasks in jobs of 100 (window 20), the worker
 * peaked at 264 MiB against 298 with the new space growing, at the same 34.1 ms of CPU per task.
 */
export function holdNewSpace(): void {
  if (userSizedHeap()) return;
  setFlagsFromString('--semi-space-growth-factor=1');
}

/**
 * `activity` run with the heap growing as far as planning needs, while any such run lasts; the
 * tighter factor again after the last one ends.
 */
export function roomToPlan<A extends unknown[], R>(activity: (...args: A) => Promise<R>) {
  return async (...args: A): Promise<R> => {
    if (!tuned) return activity(...args);
    if (planning++ === 0) setGrowth(PLANNING_GROWTH);
    try {
      return await activity(...args);
    } finally {
      if (--planning === 0) setGrowth(TIGHT_GROWTH);
    }
  };
}
