import type { WindowLoss } from './histories';
import type { MachineFacts } from './machine';
import type { BaselineSummary, DispatchSummary } from './p1-throughput';
import type { ConcurrencyResult } from './p2-concurrency';
import type { ScaleResult } from './p3-scale';
import type { PlanningResult } from './p4-planning';
import type { DiscoveryResult } from './p5-discovery';
import type { ContainerResult } from './p6-containers';
import type { CliResult } from './p7-cli';
import type { ActionsPerUnit } from './p8-actions';
import type { TransferBenchResult } from './p9-transfer';
import type { FirstResultResult } from './p10-first-result';
import { ratioFigure, type Figure } from './report';
import type { BenchPlan } from './sizes';
import type { BenchNames } from './stack';

/** Everything bench/results.json holds. */
export interface Results {
  plan: BenchPlan;
  phases: string[];
  names: BenchNames;
  machine?: MachineFacts;
  startedAt?: string;
  durationSeconds?: number;
  p1?: {
    baseline: BaselineSummary;
    single: DispatchSummary;
    batched: DispatchSummary;
    /** One-task jobs of a command analysis (`true`) against children doing the same work by hand. */
    command?: { anchor: BaselineSummary; dispatch: DispatchSummary };
  };
  p3?: ScaleResult;
  p4?: PlanningResult;
  p5?: DiscoveryResult;
  p6?: ContainerResult;
  p7?: CliResult;
  p8?: { dispatch: ActionsPerUnit; baseline: ActionsPerUnit };
  p9?: TransferBenchResult;
  p10?: FirstResultResult;
  /** The dispatch worker (`analysis worker`): process start to its first polls, seconds. */
  workerStartSeconds?: number;
  workers?: Record<string, { peakRss: number }>;
  figures?: Figure[];
}

const MIB = 2 ** 20;

function concurrencyFigures(label: string, result: ConcurrencyResult): Figure[] {
  const figures: Figure[] = [
    {
      id: 'P2',
      name: `max running jobs, progress query (${label})`,
      value: result.maxRunning,
      unit: 'jobs',
      baseline: result.window,
      baselineUnit: 'window',
      target: '<= window',
      met: result.maxRunning <= result.window,
    },
  ];
  if (result.maxRunningVisibility !== undefined) {
    figures.push({
      id: 'P2',
      name: `max running jobs, visibility count (${label})`,
      value: result.maxRunningVisibility,
      unit: 'jobs',
      baseline: result.window,
      baselineUnit: 'window',
      target: '<= window',
      met: result.maxRunningVisibility <= result.window,
      note: 'the visibility store is eventually consistent: it lags the workflows',
    });
  }
  if (result.meanRunning !== undefined) {
    figures.push(
      ratioFigure(
        {
          id: 'P2',
          name: `time-weighted mean running, steady state (${label})`,
          value: result.meanRunning,
          unit: 'jobs',
          baseline: result.window,
          baselineUnit: 'window',
          target: '>= 0.95x',
        },
        0.95,
      ),
    );
  }
  return figures;
}

/** The raw baseline's own window, sampled the same way: what a bare sliding window achieves here. */
function baselineWindow(baseline: BaselineSummary): Figure[] {
  const means = baseline.runs.flatMap((run) =>
    run.concurrency.meanRunning === undefined ? [] : [run.concurrency.meanRunning],
  );
  if (means.length === 0) return [];
  const mean = means.reduce((sum, value) => sum + value, 0) / means.length;
  const window = baseline.runs[0]?.window ?? 0;
  return [
    {
      id: 'P2',
      name: 'time-weighted mean running children, steady state (raw baseline)',
      value: mean,
      unit: 'children',
      baseline: window,
      baselineUnit: 'window',
      ratio: mean / window,
      target: 'info',
    },
  ];
}

/** From the histories: the share of the window left idle, and how long a freed slot waits to be refilled. */
function lossFigures(label: string, ours: WindowLoss, baseline: WindowLoss): Figure[] {
  const share = (loss: WindowLoss, part: number) =>
    loss.slotSeconds > 0 ? (100 * part) / loss.slotSeconds : 0;
  return [
    {
      id: 'P2',
      name: `window idle until the last start, from histories (${label})`,
      value: share(ours, ours.idleSlotSeconds),
      unit: '%',
      baseline: share(baseline, baseline.idleSlotSeconds),
      target: 'info',
    },
    {
      id: 'P2',
      name: `mean wait of a freed slot for its next start, from histories (${label})`,
      value: ours.refills ? ours.refillSeconds / ours.refills : 0,
      unit: 's',
      baseline: baseline.refills ? baseline.refillSeconds / baseline.refills : 0,
      target: 'info',
    },
  ];
}

/** CPU ms per unit of a process and of the children it waited for (the programs it ran). */
function withReaped(cpuMs: Record<string, number>, name: string): number {
  return (cpuMs[name] ?? 0) + (cpuMs[`${name}Reaped`] ?? 0);
}

/**
 * P1 of command analyses: one-task jobs running `true` against raw children doing the same work
 * by hand, measured before and after the dispatch; the no-op anchor beside them for reference.
 */
function commandFigures(
  command: NonNullable<NonNullable<Results['p1']>['command']>,
  noop: BaselineSummary,
): Figure[] {
  const { anchor, dispatch } = command;
  const [before, after] = anchor.runs;
  const figures: Figure[] = [
    ratioFigure(
      {
        id: 'P1',
        name: `command analyses (\`true\`), ${dispatch.tasks} tasks, 1 task/job, window ${dispatch.window}, vs same-work anchor`,
        value: dispatch.tasksPerSecond,
        unit: 'tasks/s',
        baseline: anchor.childrenPerSecond,
        baselineUnit: 'children/s',
        target: '>= 1.1x',
      },
      1.1,
    ),
    {
      id: 'P1',
      name: 'same, vs the no-op anchor',
      value: dispatch.tasksPerSecond,
      unit: 'tasks/s',
      baseline: noop.childrenPerSecond,
      baselineUnit: 'children/s',
      ratio: dispatch.tasksPerSecond / noop.childrenPerSecond,
      target: 'info',
    },
  ];
  if (before && after) {
    figures.push({
      id: 'P1',
      name: 'same-work anchor after the command dispatch vs before it (load drift)',
      value: after.childrenPerSecond,
      unit: 'children/s',
      baseline: before.childrenPerSecond,
      ratio: after.childrenPerSecond / before.childrenPerSecond,
      target: 'info',
    });
  }
  figures.push({
    id: 'P1',
    name: "worker CPU per command task, its exited children's included (vs the anchor worker's per child)",
    value: withReaped(dispatch.cpuMsPerTask, 'worker'),
    unit: 'ms',
    baseline: withReaped(anchor.cpuMsPerChild, 'baselineWorker'),
    ratio: withReaped(dispatch.cpuMsPerTask, 'worker') / withReaped(anchor.cpuMsPerChild, 'baselineWorker'),
    target: 'info',
  });
  return figures;
}

/** The table: every figure beside its same-run baseline and its target. */
export function buildFigures(results: Results): Figure[] {
  const figures: Figure[] = [];
  const { p1, p3, p4, p5 } = results;
  if (p1) {
    const base = p1.baseline.childrenPerSecond;
    figures.push(
      ratioFigure(
        {
          id: 'P1',
          name: `throughput, ${p1.single.tasks} tasks, 1 task/job, window ${p1.single.window}`,
          value: p1.single.jobsPerSecond,
          unit: 'jobs/s',
          baseline: base,
          baselineUnit: 'children/s',
          target: '>= 0.9x',
        },
        0.9,
      ),
      ratioFigure(
        {
          id: 'P1',
          name: `throughput, ${p1.batched.tasks} tasks, ${p1.batched.tasksPerJob} tasks/job`,
          value: p1.batched.tasksPerSecond,
          unit: 'tasks/s',
          baseline: base,
          baselineUnit: 'children/s',
          target: '>= 3x',
        },
        3,
      ),
      ...(p1.command ? commandFigures(p1.command, p1.baseline) : []),
      {
        id: 'P1',
        name: 'history events per task, 1 task/job (vs per baseline child)',
        value: p1.single.eventsPerTask,
        unit: 'events',
        baseline: p1.baseline.eventsPerChild,
        ratio: p1.single.eventsPerTask / p1.baseline.eventsPerChild,
        target: 'info',
      },
      {
        id: 'P1',
        name: `history events per task, ${p1.batched.tasksPerJob} tasks/job (vs per baseline child)`,
        value: p1.batched.eventsPerTask,
        unit: 'events',
        baseline: p1.baseline.eventsPerChild,
        ratio: p1.batched.eventsPerTask / p1.baseline.eventsPerChild,
        target: 'info',
      },
      {
        id: 'P1',
        name: 'Temporal server CPU per task, 1 task/job (vs per baseline child)',
        value: p1.single.cpuMsPerTask.temporal ?? 0,
        unit: 'ms',
        baseline: p1.baseline.cpuMsPerChild.temporal ?? 0,
        ratio: (p1.single.cpuMsPerTask.temporal ?? 0) / (p1.baseline.cpuMsPerChild.temporal ?? 1),
        target: 'info',
      },
      ...concurrencyFigures('1 task/job', p1.single.concurrency),
      ...baselineWindow(p1.baseline),
      ...lossFigures('1 task/job', p1.single.histories.windowLoss, p1.baseline.windowLoss),
      ...concurrencyFigures(`${p1.batched.tasksPerJob} tasks/job`, p1.batched.concurrency),
    );
  }
  if (p3) {
    figures.push(
      {
        id: 'P3',
        name: `dispatch of ${p3.dispatch.tasks} tasks, ${p3.tasksPerJob} tasks/job (100,000 in ${p3.hoursFor100k.toFixed(1)} h at this rate)`,
        value: p3.dispatch.tasksPerSecond,
        unit: 'tasks/s',
        target: '100,000 in budget',
        met: p3.dispatch.tasks >= 100_000,
      },
      {
        id: 'P3',
        name: `largest history (dispatch runs ${p3.dispatchRunEvents.join(', ')}; jobs up to ${p3.maxJobEvents})`,
        value: p3.maxEvents,
        unit: 'events',
        baseline: 10_000,
        baselineUnit: 'limit',
        target: '<= 10,000',
        met: p3.maxEvents <= 10_000,
      },
      {
        id: 'P3',
        name: 'largest payload in any sampled history',
        value: p3.maxPayloadBytes / 1024,
        unit: 'KB',
        baseline: 512,
        baselineUnit: 'KB limit',
        target: '<= 512 KB',
        met: p3.maxPayloadBytes <= 512 * 1024,
      },
      {
        id: 'P3',
        name: 'dispatch worker peak RSS (VmHWM, whole life)',
        value: p3.workerPeakRss / MIB,
        unit: 'MiB',
        baseline: 300,
        baselineUnit: 'MiB limit',
        target: '< 300 MiB',
        met: p3.workerPeakRss < 300 * MIB,
      },
      {
        id: 'P3',
        name: 'dispatch worker RSS: after start (bundling) / highest during P3',
        value: p3.workerPeakRssDuringRun / MIB,
        unit: 'MiB',
        baseline: p3.workerRssAtStart / MIB,
        baselineUnit: 'MiB at start',
        target: 'info',
      },
      ...concurrencyFigures(`${p3.tasksPerJob} tasks/job`, p3.dispatch.concurrency),
    );
  }
  if (p4) {
    figures.push(
      ratioFigure(
        {
          id: 'P4',
          name: `planning from ${p4.records.toLocaleString('en-US')} asset records vs raw cursor`,
          value: p4.planRecordsPerSecond,
          unit: 'records/s',
          baseline: p4.cursorRecordsPerSecond,
          target: '>= 0.8x',
        },
        0.8,
      ),
    );
  }
  if (p5) {
    figures.push(
      ratioFigure(
        {
          id: 'P5',
          name: `discovery over ${p5.prefixes.toLocaleString('en-US')} prefixes vs one after another`,
          value: p5.discoverPrefixesPerSecond,
          unit: 'prefixes/s',
          baseline: p5.sequentialPrefixesPerSecond,
          target: '>= 10x',
        },
        10,
      ),
      ratioFigure(
        {
          id: 'P5',
          name: `discovery vs raw parallel ListObjectsV2 (${p5.concurrency} at once)`,
          value: p5.discoverPrefixesPerSecond,
          unit: 'prefixes/s',
          baseline: p5.rawPrefixesPerSecond,
          target: '>= 0.8x',
        },
        0.8,
      ),
    );
    if (p5.sparse) {
      figures.push(
        ratioFigure(
          {
            id: 'P5',
            name: `same vs raw sweep, every tenth prefix only (${p5.sparse.prefixes.toLocaleString('en-US')}, scattered)`,
            value: p5.sparse.discoverPrefixesPerSecond,
            unit: 'prefixes/s',
            baseline: p5.sparse.rawPrefixesPerSecond,
            target: '>= 0.8x',
          },
          0.8,
        ),
      );
    }
    if (p5.latency) {
      figures.push({
        id: 'P5',
        name: `same, ${p5.latency.ms} ms added per request (remote S3) vs one after another`,
        value: p5.latency.discoverPrefixesPerSecond,
        unit: 'prefixes/s',
        baseline: p5.latency.sequentialPrefixesPerSecond,
        ratio: p5.latency.speedupVsSequential,
        target: 'info',
      });
    }
  }
  figures.push(...containerFigures(results));
  figures.push(...cliFigures(results));
  figures.push(...transferFigures(results), ...firstResultFigures(results));
  return figures;
}

/** P9: each transfer's throughput against the plain SDK's, and the peak RSS of the process of each. */
function transferFigures(results: Results): Figure[] {
  const { p9 } = results;
  if (!p9) return [];
  return p9.pairs.flatMap((pair) => [
    ratioFigure(
      {
        id: 'P9',
        name: `${pair.name} vs plain SDK (${p9.concurrency} at once)`,
        value: pair.bytes / MIB / pair.project.seconds,
        unit: 'MiB/s',
        baseline: pair.bytes / MIB / pair.sdk.seconds,
        target: '>= 0.9x',
        note: `${(pair.objects / pair.project.seconds).toFixed(0)} vs ${(pair.objects / pair.sdk.seconds).toFixed(0)} objects/s`,
      },
      0.9,
    ),
    {
      id: 'P9',
      name: `same, peak RSS of the process vs the plain SDK's`,
      value: pair.project.peakRss / MIB,
      unit: 'MiB',
      baseline: pair.sdk.peakRss / MIB,
      ratio: pair.project.peakRss / pair.sdk.peakRss,
      target: 'bounded',
      // Bounded: far below what was moved when that is large, whatever the SDK's own figure.
      met: pair.project.peakRss < Math.max(512 * MIB, pair.bytes / 2),
    },
    // Results of runs before the CPU was read have none.
    ...(pair.project.cpuSeconds && pair.sdk.cpuSeconds
      ? [
          {
            id: 'P9',
            name: 'same, CPU of the process over the transfer vs the plain SDK',
            value: pair.project.cpuSeconds,
            unit: 's',
            baseline: pair.sdk.cpuSeconds,
            ratio: pair.project.cpuSeconds / pair.sdk.cpuSeconds,
            target: 'info',
          },
        ]
      : []),
  ]);
}

/** P10: one task's dispatch, waited for, against one activity's workflow executed by the Temporal CLI. */
function firstResultFigures(results: Results): Figure[] {
  const { p10 } = results;
  if (!p10) return [];
  const { dispatch, baseline } = p10;
  return [
    {
      id: 'P10',
      name: 'dispatch --wait of one task: command start to the analysis starting vs temporal workflow execute of one activity',
      value: dispatch.startMedianSeconds,
      unit: 's',
      baseline: baseline.startMedianSeconds,
      ratio: dispatch.startMedianSeconds / baseline.startMedianSeconds,
      target: 'info',
    },
    {
      id: 'P10',
      name: 'same, command start to the command returning',
      value: dispatch.returnMedianSeconds,
      unit: 's',
      baseline: baseline.returnMedianSeconds,
      ratio: dispatch.returnMedianSeconds / baseline.returnMedianSeconds,
      target: 'info',
    },
  ];
}

/** P6: a task's command run in a container against the same command run bare, per task. */
function containerFigures(results: Results): Figure[] {
  const { p6 } = results;
  if (!p6) return [];
  return [
    {
      id: 'P6',
      name: 'container run per task (podman, `true` in busybox) vs bare command',
      value: p6.containerMedianSeconds,
      unit: 's',
      baseline: p6.bareMedianSeconds,
      baselineUnit: 's',
      ratio: p6.containerMedianSeconds / p6.bareMedianSeconds,
      target: 'info',
    },
    {
      id: 'P6',
      name: 'same, vs `podman run --rm` from a shell',
      value: p6.containerMedianSeconds,
      unit: 's',
      baseline: p6.podmanRunMedianSeconds,
      baselineUnit: 's',
      ratio: p6.containerMedianSeconds / p6.podmanRunMedianSeconds,
      target: 'info',
    },
  ];
}

/** P7 (command latency, medians) and P8 (billable Temporal actions per task), with their baselines. */
function cliFigures(results: Results): Figure[] {
  const figures: Figure[] = [];
  const { p7, p8 } = results;
  if (p7) {
    for (const help of p7.help) {
      figures.push({
        id: 'P7',
        name: `${help.command} vs starting Node (node -e 0)`,
        value: help.medianSeconds,
        unit: 's',
        baseline: p7.node.medianSeconds,
        baselineUnit: 's',
        ratio: help.medianSeconds / p7.node.medianSeconds,
        target: '< 0.3 s',
        met: help.medianSeconds < 0.3,
      });
    }
    const slower = (id: string, name: string, value: number, baseline: number) => {
      const ratio = value / baseline;
      figures.push({
        id,
        name,
        value,
        unit: 's',
        baseline,
        baselineUnit: 's',
        ratio,
        target: '<= 3x',
        met: ratio <= 3,
      });
    };
    slower(
      'P7',
      'analysis status <id> vs temporal workflow describe',
      p7.status.medianSeconds,
      p7.describe.medianSeconds,
    );
    slower(
      'P7',
      `analysis results (${p7.records} records) vs a driver find in a new Node process`,
      p7.results.medianSeconds,
      p7.rawFind.medianSeconds,
    );
  }
  if (results.workerStartSeconds !== undefined) {
    figures.push({
      id: 'P7',
      name: 'dispatch worker start-up: process start to polling',
      value: results.workerStartSeconds,
      unit: 's',
      target: 'info',
    });
  }
  if (p8) {
    const kinds = Object.entries(p8.dispatch.byKind)
      .map(([kind, count]) => `${kind} ${count.toFixed(2)}`)
      .join(', ');
    figures.push({
      id: 'P8',
      name: 'billable Temporal actions per one-task job vs per raw child',
      value: p8.dispatch.total,
      unit: 'actions',
      baseline: p8.baseline.total,
      baselineUnit: 'actions',
      ratio: p8.dispatch.total / p8.baseline.total,
      target: 'info',
      note: kinds,
    });
  }
  return figures;
}
