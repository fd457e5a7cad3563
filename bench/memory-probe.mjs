// Preloaded into the dispatch worker by bench/worker-memory.ts (`node --import`), and so into each
// of its threads: every half second, a line with the thread's own V8 heap (process.memoryUsage's
// heap figures are those of the calling thread's isolate) and the process's resident set.
import { getHeapSpaceStatistics } from 'node:v8';
import { isMainThread, threadId } from 'node:worker_threads';

const thread = isMainThread ? 'main' : `thread-${threadId}`;
setInterval(() => {
  const usage = process.memoryUsage();
  const newSpace = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
  const line = {
    t: Date.now(),
    thread,
    rss: usage.rss,
    heapTotal: usage.heapTotal,
    heapUsed: usage.heapUsed,
    newSpace: newSpace?.space_size ?? 0,
    external: usage.external,
    arrayBuffers: usage.arrayBuffers,
  };
  process.stderr.write(`memory-probe ${JSON.stringify(line)}\n`);
}, 500).unref();
