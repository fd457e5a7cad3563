import { setFlagsFromString } from 'node:v8';

/** Node flags that size V8's heap: a user who passes one has chosen, and the worker keeps out. */
const HEAP_FLAGS =
  /--(max[-_]old[-_]space[-_]size|max[-_]semi[-_]space[-_]size|max[-_]heap[-_]size|heap[-_]growing[-_]percent)\b/;

/** Whether the user sized V8's heap, on the command line or in NODE_OPTIONS. */
export function userSizedHeap(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? '',
): boolean {
  return execArgv.some((arg) => HEAP_FLAGS.test(arg)) || HEAP_FLAGS.test(nodeOptions);
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
 *   thread at its next one, and on every isolate after it. At 1.5 a dispatch's worker spent a few
 *   percent more CPU per task and planning, whose heap grows with what it keeps, about 10% more;
 *   at 1.25 planning spent a quarter more;
 * - the new space's size is read when an isolate starts, so it sizes the workflow thread that
 *   Worker.create starts after this, not the main thread.
 */
export function tuneHeap(): void {
  if (userSizedHeap()) return;
  setFlagsFromString('--heap-growing-percent=50');
  setFlagsFromString('--max-semi-space-size=4');
}
