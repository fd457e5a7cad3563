import type { Command } from 'commander';
import { runCommand } from './common';
import type * as Action from './worker-action';

// The worker SDK (native bridge), the driver and the S3 client load only when a worker starts.
const load = () => require('./worker-action') as typeof Action;

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('Run a worker: dispatch and job workflows, planning, analyses and uploads.')
    .option(
      '--pools <names>',
      'worker pools served besides the default, comma-separated (e.g. gpu,highmem): this worker also runs the analyses that name one of them; default: ANALYSIS_WORKER_POOLS, else none',
    )
    .addHelpText(
      'after',
      [
        '',
        'Run one per machine (or more); all workers on the same TEMPORAL_TASK_QUEUE share the work.',
        'Every worker serves the default pool (workflows, planning, analyses that name no pool). An',
        'analysis whose registration names a pool runs only on workers started with that pool in',
        '--pools, polling the task queue <TEMPORAL_TASK_QUEUE>-pool-<name>; until one runs, its tasks wait.',
        'Stops cleanly on SIGINT/SIGTERM, finishing or handing back what it holds.',
      ].join('\n'),
    )
    .action((flags: { pools?: string }) => runCommand(({ config }) => load().runWorker(config, flags)));
}
