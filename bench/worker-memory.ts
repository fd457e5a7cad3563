import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureStack, ROOT } from '../test/helpers/stack';
import type { BenchContext } from './context';
import { stackPids } from './cpu';
import { measureDispatch, type DispatchSummary } from './p1-throughput';
import { startWorkerProcess, type WorkerProcess } from './processes';
import { benchNames, deleteWorkflows, openStack } from './stack';

/**
 * The dispatch worker's memory under a P1+P3-like load, in a few minutes: one-task jobs, then a
 * dispatch batched 100 tasks to a job, window 20, as `npm run bench` runs them against the same
 * `analysis worker`. Prints the worker's peak resident set (VmHWM) and the rate of each phase.
 *
 * `--probe` preloads bench/memory-probe.mjs into the worker's threads and splits the highest
 * resident set sampled: the main thread's V8 heap (activities, the SDK's worker loop) and its
 * external memory (buffers), the workflow thread's heap, and the rest, native memory (the Rust
 * core, Node itself, malloc's arenas).
 * `--node-arg` (repeatable) passes a flag to the worker's Node, `--env NAME=VALUE` sets a variable
 * of its environment, to compare settings at the same load.
 *
 *   npx tsx bench/worker-memory.ts [--single 200] [--tasks 1200] [--probe]
 */
const MiB = 1024 * 1024;

function log(message: string): void {
  console.error(`[worker-memory ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

interface ProbeLine {
  t: number;
  thread: string;
  rss: number;
  heapTotal: number;
  heapUsed: number;
  newSpace: number;
  external: number;
  arrayBuffers: number;
}

/**
 * The probe's lines at the highest resident set it saw: the main thread's and, from each other
 * thread, its line nearest in time.
 */
function breakdownAtPeak(workerLog: string): ProbeLine[] {
  const lines = [...workerLog.matchAll(/^memory-probe (\{.*\})$/gm)].map(
    (match) => JSON.parse(match[1]!) as ProbeLine,
  );
  const main = lines.filter((line) => line.thread === 'main');
  if (main.length === 0) return [];
  const peak = main.reduce((most, line) => (line.rss > most.rss ? line : most));
  const nearest = new Map<string, ProbeLine>();
  for (const line of lines) {
    if (line.thread === 'main') continue;
    const seen = nearest.get(line.thread);
    if (!seen || Math.abs(line.t - peak.t) < Math.abs(seen.t - peak.t)) nearest.set(line.thread, line);
  }
  return [peak, ...nearest.values()];
}

const mib = (bytes: number) => (bytes / MiB).toFixed(0);

function phaseLine(name: string, summary: DispatchSummary): string {
  return (
    `${name}: ${summary.tasks} tasks, ${summary.tasksPerJob} per job, ${summary.seconds.toFixed(1)} s, ` +
    `${summary.tasksPerSecond.toFixed(2)} tasks/s (${summary.jobsPerSecond.toFixed(2)} jobs/s), ` +
    `worker CPU ${(summary.cpuMsPerTask.worker ?? 0).toFixed(1)} ms/task`
  );
}

async function main() {
  const { values } = parseArgs({
    options: {
      single: { type: 'string', default: '200' },
      tasks: { type: 'string', default: '1200' },
      'tasks-per-job': { type: 'string', default: '100' },
      window: { type: 'string', default: '20' },
      probe: { type: 'boolean', default: false },
      'node-arg': { type: 'string', multiple: true, default: [] },
      env: { type: 'string', multiple: true, default: [] },
      'no-build': { type: 'boolean', default: false },
    },
  });
  const window = Number(values.window);
  ensureStack();
  if (!values['no-build']) {
    // The worker runs the compiled code, as users run it (and as the bench measures it).
    log('building dist/');
    execFileSync('bash', [join(ROOT, 'scripts', 'build.sh')], { stdio: 'inherit' });
  }
  const names = benchNames();
  const stack = await openStack(names);
  const dir = join(ROOT, 'test-output', 'bench', names.id);
  mkdirSync(dir, { recursive: true });
  const env = { ...stack.env };
  for (const pair of values.env) {
    const at = pair.indexOf('=');
    if (at < 1) throw new Error(`--env ${pair}: expected NAME=VALUE`);
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  const nodeArgs = [
    ...values['node-arg'],
    ...(values.probe ? ['--import', join(ROOT, 'bench', 'memory-probe.mjs')] : []),
  ];
  let worker: WorkerProcess | undefined;
  try {
    log(`run ${names.id}: starting the dispatch worker${nodeArgs.length ? ` (${nodeArgs.join(' ')})` : ''}`);
    worker = await startWorkerProcess(stack.client, {
      name: 'dispatch-worker',
      args: [...nodeArgs, join(ROOT, 'bin', 'analysis.js'), 'worker'],
      env,
      taskQueue: names.taskQueue,
      logDir: dir,
    });
    const atStart = (await worker.memory()).peakRss;
    const ctx: BenchContext = {
      stack,
      dir,
      pids: { ...stackPids(), worker: worker.pid },
      deadline: performance.now() + 30 * 60_000,
      sampleMs: 200,
    };
    const phases: Array<[string, DispatchSummary]> = [];
    const single = Number(values.single);
    if (single > 0) {
      log(`one-task jobs: ${single} tasks, window ${window}`);
      const { summary } = await measureDispatch(ctx, { set: 'm1', tasks: single, tasksPerJob: 1, window });
      phases.push(['one-task jobs', summary]);
    }
    const afterSingle = (await worker.memory()).peakRss;
    const perJob = Number(values['tasks-per-job']);
    log(`batched: ${values.tasks} tasks, ${perJob} per job, window ${window}`);
    const { summary } = await measureDispatch(ctx, {
      set: 'm3',
      tasks: Number(values.tasks),
      tasksPerJob: perJob,
      window,
    });
    phases.push(['batched', summary]);
    const { peakRss, samples } = await worker.memory();
    const lastRss = samples.at(-1)?.rss ?? 0;
    await worker.stop();

    console.log(`worker: node ${nodeArgs.join(' ')} bin/analysis.js worker ${values.env.join(' ')}`.trim());
    for (const [name, phase] of phases) console.log(phaseLine(name, phase));
    console.log(
      `peak RSS (VmHWM) ${(peakRss / MiB).toFixed(0)} MiB; at start ${(atStart / MiB).toFixed(0)}, ` +
        `after the one-task jobs ${(afterSingle / MiB).toFixed(0)}, at the end ${(lastRss / MiB).toFixed(0)}`,
    );
    if (values.probe) {
      const [main, ...threads] = breakdownAtPeak(readFileSync(join(dir, 'dispatch-worker.log'), 'utf8'));
      if (main) {
        console.log(
          `  at the highest RSS sampled (${mib(main.rss)} MiB): main thread V8 heap ${mib(main.heapTotal)} MiB ` +
            `(${mib(main.heapUsed)} used, new space ${mib(main.newSpace)}), external ${mib(main.external)} ` +
            `(array buffers ${mib(main.arrayBuffers)})`,
        );
        let heaps = main.heapTotal + main.external;
        for (const thread of threads) {
          console.log(
            `  ${thread.thread} (workflows) V8 heap ${mib(thread.heapTotal)} MiB (${mib(thread.heapUsed)} used, ` +
              `new space ${mib(thread.newSpace)}), external ${mib(thread.external)}`,
          );
          heaps += thread.heapTotal + thread.external;
        }
        console.log(`  the rest (native: the Rust core, Node, malloc): ${mib(main.rss - heaps)} MiB`);
      }
    }
    console.log(`worker log: ${join(dir, 'dispatch-worker.log')}`);
  } finally {
    await worker?.stop();
    await deleteWorkflows(stack.client, [names.taskQueue]).catch((err: Error) =>
      log(`workflows kept: ${err.message}`),
    );
    await stack.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
