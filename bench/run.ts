import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureStack, ROOT } from '../test/helpers/stack';
import type { BenchContext } from './context';
import { stackPids } from './cpu';
import { buildFigures, type Results } from './figures';
import { machineFacts } from './machine';
import { measureBaseline, measureDispatch, summarizeBaselines, type MeasuredBaseline } from './p1-throughput';
import { benchPlanning } from './p4-planning';
import { benchDiscovery } from './p5-discovery';
import { benchScale } from './p3-scale';
import { benchCli } from './p7-cli';
import { benchTransfer } from './p9-transfer';
import { benchFirstResult } from './p10-first-result';
import { benchContainers } from './p6-containers';
import { baselineActions, dispatchActions } from './p8-actions';
import { startWorkerProcess, type WorkerProcess } from './processes';
import { renderMarkdown, renderTable } from './report';
import { FULL, QUICK } from './sizes';
import { SERVER_RESULTS, serverKind, sideBySide } from './servers';
import { benchNames, deleteWorkflows, openStack, withLatency, type BenchStack } from './stack';

/** The share of the batched P1 rate that P3 is sized for. */
const SCALE_RATE_SHARE = 0.6;
/** Time kept after P3 for its histories, the results and the cleanup. */
const RESERVE_SECONDS = 150;
const PHASES = ['p1', 'p3', 'p4', 'p5', 'p6', 'p7', 'p9', 'p10'] as const;
/** Phases that dispatch (P7 looks at P1's dispatch, or makes one), and those that run a baseline. */
const DISPATCH_WORKER_PHASES = ['p1', 'p3', 'p7', 'p10'] as const;
const BASELINE_WORKER_PHASES = ['p1', 'p10'] as const;
/** Runs of each way of running a command P6 times (after one warm-up), for their median. */
const CONTAINER_RUNS = 10;
/** Runs of each command P7 times (after one warm-up), for their median. */
const CLI_RUNS = 7;

function log(message: string): void {
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

/** The dispatch worker (`analysis worker`, as users run it) and the baselines' worker, as asked. */
async function startWorkers(
  stack: BenchStack,
  options: { dispatch: boolean; baseline: boolean; dir: string; profile: boolean },
): Promise<{ dispatchWorker?: WorkerProcess; baselineWorker?: WorkerProcess }> {
  const { names } = stack;
  const starting = [
    ...(options.dispatch ? ['the dispatch worker (analysis worker)'] : []),
    ...(options.baseline ? ['the baseline worker'] : []),
  ];
  if (starting.length > 0) log(`starting ${starting.join(' and ')}`);
  const [dispatchWorker, baselineWorker] = await Promise.all([
    options.dispatch
      ? startWorkerProcess(stack.client, {
          name: 'dispatch-worker',
          args: [
            ...(options.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(options.dir, 'profiles')}`] : []),
            join(ROOT, 'bin', 'analysis.js'),
            'worker',
          ],
          // P1's command analysis and P10's are commands given in their specs.
          env: { ...stack.env, ANALYSIS_ALLOW_SPEC_COMMANDS: '1' },
          taskQueue: names.taskQueue,
          logDir: options.dir,
        })
      : undefined,
    options.baseline
      ? startWorkerProcess(stack.client, {
          name: 'baseline-worker',
          args: ['--require', 'tsx/cjs', join(ROOT, 'bench', 'baseline-worker.ts')],
          env: { ...stack.env, BENCH_TASK_QUEUE: names.baselineQueue, BENCH_BUCKET: names.bucket },
          taskQueue: names.baselineQueue,
          logDir: options.dir,
        })
      : undefined,
  ]);
  return { dispatchWorker, baselineWorker };
}

async function main() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      keep: { type: 'boolean', default: false },
      // Writes a V8 CPU profile of the dispatch worker (open it in Chrome DevTools or speedscope).
      profile: { type: 'boolean', default: false },
      // Default: bench/results.json on the dev server, bench/results-server.json with DEV_TEMPORAL=server.
      out: { type: 'string' },
      // P3 of exactly this many tasks, however long it takes (the full run sizes P3 to its time left).
      p3_tasks: { type: 'string' },
    },
  });
  const plan = values.quick ? QUICK : FULL;
  const kind = serverKind();
  const out = values.out ?? SERVER_RESULTS[kind];
  const only = values.only ? values.only.split(',').map((phase) => phase.trim().toLowerCase()) : [...PHASES];
  const want = (phase: (typeof PHASES)[number]) => only.includes(phase);
  const p3Tasks = values.p3_tasks === undefined ? undefined : Number(values.p3_tasks);
  if (p3Tasks !== undefined && !(Number.isInteger(p3Tasks) && p3Tasks >= plan.scaleTasksPerJob)) {
    console.error(
      `--p3_tasks must be a whole number of at least ${plan.scaleTasksPerJob}, not "${values.p3_tasks}"`,
    );
    process.exit(2);
  }
  const started = performance.now();
  const startedAt = new Date();
  const deadline = started + plan.minutes * 60_000;

  ensureStack();
  // The CLI and the dispatch worker run the compiled code, as users run it: built now, so that
  // what is measured is the tree as it is.
  log('building dist/ (npm run build)');
  execFileSync('bash', [join(ROOT, 'scripts', 'build.sh')], { stdio: 'inherit' });
  const names = benchNames();
  const stack = await openStack(names);
  const dir = join(ROOT, 'test-output', 'bench', names.id);
  mkdirSync(dir, { recursive: true });
  log(
    `${plan.mode} run ${names.id}: queues ${names.taskQueue}, ${names.baselineQueue}; databases bench_${names.id}_*`,
  );
  const workers: WorkerProcess[] = [];
  const results: Results = { plan, phases: only, names };
  try {
    results.machine = await machineFacts(stack.client, stack.mongo);
    // Each worker only for the phases that dispatch to it.
    const { dispatchWorker, baselineWorker } = await startWorkers(stack, {
      dispatch: DISPATCH_WORKER_PHASES.some(want),
      baseline: BASELINE_WORKER_PHASES.some(want),
      dir,
      profile: values.profile,
    });
    if (dispatchWorker) workers.push(dispatchWorker);
    if (baselineWorker) workers.push(baselineWorker);
    const workerRssAtStart = dispatchWorker ? (await dispatchWorker.memory()).peakRss : 0;
    results.workerStartSeconds = dispatchWorker?.startSeconds;
    const ctx: BenchContext = {
      stack,
      dir,
      pids: {
        ...stackPids(),
        ...(dispatchWorker ? { worker: dispatchWorker.pid } : {}),
        ...(baselineWorker ? { baselineWorker: baselineWorker.pid } : {}),
      },
      deadline,
      sampleMs: 200,
    };

    if (want('p10')) {
      // First, while the stack is idle: nothing else of the bench has run yet.
      log(`P10 time to first result: ${plan.firstResultRuns} runs of each command, medians`);
      results.p10 = await benchFirstResult(stack, {
        dir,
        baselineQueue: names.baselineQueue,
        runs: plan.firstResultRuns,
      });
    }
    if (want('p9')) {
      log(`P9 data movement: ${plan.transferObjects} objects, ${plan.transferLargeMiB} MiB`);
      results.p9 = await benchTransfer({
        s3: stack.s3,
        env: stack.env,
        bucket: `bench-${names.id}-transfer`,
        dir,
        smallObjects: plan.transferObjects,
        smallObjectBytes: plan.transferObjectBytes,
        largeBytes: plan.transferLargeMiB * 2 ** 20,
        keep: values.keep,
        log,
      });
    }
    if (want('p4')) {
      log(`P4 planning: ${plan.planningRecords} asset records`);
      results.p4 = await benchPlanning({
        db: stack.mongo.db(names.planDb),
        s3: stack.s3,
        config: stack.config,
        bucket: names.bucket,
        dir,
        records: plan.planningRecords,
        rounds: plan.planningRounds,
        withStore: true,
      });
    }
    if (want('p5')) {
      log(`P5 discovery: ${plan.prefixes} asset prefixes`);
      const slow = withLatency(stack.config, plan.latencyMs);
      try {
        results.p5 = await benchDiscovery({
          s3: stack.s3,
          bucket: names.discoveryBucket,
          prefixes: plan.prefixes,
          sequentialPrefixes: plan.sequentialPrefixes,
          concurrency: 32,
          rounds: plan.discoveryRounds,
          latency: {
            s3: slow,
            ms: plan.latencyMs,
            prefixes: plan.latencyPrefixes,
            sequentialPrefixes: plan.latencySequentialPrefixes,
          },
        });
      } finally {
        slow.destroy();
      }
    }
    if (want('p6')) {
      log(`P6 container run per task vs bare command: ${CONTAINER_RUNS} runs each, medians`);
      results.p6 = await benchContainers(CONTAINER_RUNS);
    }
    if (want('p1')) {
      // Each anchor runs before and after the dispatches it is compared with, so that a change
      // of load during the phase shows in its two rates.
      const noop: MeasuredBaseline[] = [];
      const sameWork: MeasuredBaseline[] = [];
      const anchor = async (child: 'noop' | 'sameWork', label: string) => {
        const children = child === 'noop' ? plan.baselineChildren : plan.commandTasks;
        const name = child === 'noop' ? 'no-op' : 'same-work';
        log(`P1 ${name} anchor (${label}): ${children} children, window ${plan.window}`);
        const measured = await measureBaseline(ctx, {
          children,
          window: plan.window,
          child,
          label: child === 'noop' ? label : `work-${label}`,
        });
        (child === 'noop' ? noop : sameWork).push(measured);
      };
      await anchor('noop', 'a');
      await anchor('sameWork', 'a');
      log(`P1 dispatch: ${plan.singleTasks} tasks, 1 per job, window ${plan.window}`);
      const single = await measureDispatch(ctx, {
        set: 'p1',
        tasks: plan.singleTasks,
        tasksPerJob: 1,
        window: plan.window,
      });
      log(
        `P1 dispatch: ${plan.batchedTasks} tasks, ${plan.batchedTasksPerJob} per job, window ${plan.window}`,
      );
      const batched = await measureDispatch(ctx, {
        set: 'p1b',
        tasks: plan.batchedTasks,
        tasksPerJob: plan.batchedTasksPerJob,
        window: plan.window,
      });
      log(
        `P1 dispatch of a command analysis (true): ${plan.commandTasks} tasks, 1 per job, window ${plan.window}`,
      );
      const command = await measureDispatch(ctx, {
        set: 'p1c',
        tasks: plan.commandTasks,
        tasksPerJob: 1,
        window: plan.window,
        analysis: { analysis_name: 'True', command: ['true'] },
      });
      await anchor('sameWork', 'b');
      await anchor('noop', 'b');
      results.p1 = {
        baseline: await summarizeBaselines(ctx, noop),
        single: single.summary,
        batched: batched.summary,
        command: { anchor: await summarizeBaselines(ctx, sameWork), dispatch: command.summary },
      };
      log('P8 billable actions per task, from the histories of the one-task dispatch and no-op anchor (a)');
      results.p8 = {
        dispatch: await dispatchActions(
          stack.client,
          single.run.workflowId,
          single.run.jobs,
          single.run.tasks,
        ),
        baseline: await baselineActions(stack.client, noop[0]!.workflowId, noop[0]!.children),
      };
    }
    if (want('p7')) {
      // A finished dispatch of at least 100 tasks to look at: P1's, else one of its own.
      let dispatchId = results.p1?.single.dispatchId;
      if (!dispatchId || (results.p1?.single.tasks ?? 0) < 100) {
        log('P7: a dispatch of 100 one-task jobs to look at');
        const own = await measureDispatch(ctx, {
          set: 'p7',
          tasks: 100,
          tasksPerJob: 1,
          window: plan.window,
        });
        dispatchId = own.summary.dispatchId;
      }
      log(`P7 command latency: ${CLI_RUNS} runs of each command, medians`);
      results.p7 = benchCli(stack, dispatchId, CLI_RUNS);
    }
    if (want('p3')) {
      // The largest dispatch that fits the time left, at the rate the batched dispatch reached.
      const left = (deadline - performance.now()) / 1000 - RESERVE_SECONDS;
      const budget = Math.min(plan.scaleMaxSeconds, Math.max(60, left));
      // Discounted: its jobs of 100 meet a larger records collection and busier database than P1's
      // (measured: 3.7 tasks/s against P1's 5.3 on the same machine), and the others' load varies.
      const rate = SCALE_RATE_SHARE * (results.p1?.batched.tasksPerSecond ?? 2);
      const tasks =
        p3Tasks ??
        Math.min(
          plan.scaleMaxTasks,
          Math.max(
            plan.scaleMinTasks,
            Math.floor((rate * budget) / plan.scaleTasksPerJob) * plan.scaleTasksPerJob,
          ),
        );
      log(
        `P3 scale: ${tasks} tasks, ${plan.scaleTasksPerJob} per job (${Math.round(budget)} s at ${rate.toFixed(2)} tasks/s)`,
      );
      results.p3 = await benchScale(ctx, dispatchWorker!, {
        tasks,
        tasksPerJob: plan.scaleTasksPerJob,
        window: plan.window,
        budgetSeconds: budget,
        workerRssAtStart,
      });
    }
    results.workers = {};
    for (const worker of workers) {
      const { peakRss } = await worker.memory();
      results.workers[worker.name] = { peakRss };
    }
  } finally {
    log('stopping workers and cleaning up');
    await Promise.allSettled(workers.map((worker) => worker.stop()));
    if (!values.keep) {
      await deleteWorkflows(stack.client, [names.taskQueue, names.baselineQueue]).catch((err: Error) =>
        log(`workflows kept: ${err.message}`),
      );
      await stack.close();
    } else {
      log(
        `kept: databases bench_${names.id}_*, buckets bench-${names.id}-*, workflows on ${names.taskQueue}*`,
      );
    }
  }

  if (results.machine)
    results.machine.loadAverageAtEnd = loadavg().map((value) => Math.round(value * 100) / 100);
  results.startedAt = startedAt.toISOString();
  results.durationSeconds = (performance.now() - started) / 1000;
  results.figures = buildFigures(results);
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(renderTable(results.figures));
  const servers = sideBySide(results, kind);
  if (servers) console.log(`\n${servers}`);
  console.log(`\n${plan.mode} run in ${(results.durationSeconds / 60).toFixed(1)} min; results in ${out}`);
  if (process.env.BENCH_MARKDOWN) console.log(`\n${renderMarkdown(results.figures)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
