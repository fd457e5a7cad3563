import type { Command } from 'commander';
import { redactUri } from '../config';
import { createLogger } from '../logger';
import { temporalSettings } from '../temporal';
import type * as WorkerModule from '../workers/worker-process';
import { runCommand } from './common';

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
    .action((flags: { pools?: string }) =>
      runCommand(async ({ config }) => {
        const log = createLogger(config.LOG_LEVEL);
        // The worker SDK (native bridge, bundler) is loaded only by this command, keeping every other
        // command's start-up short.
        const { createWorker } = require('../workers/worker-process') as typeof WorkerModule;
        const worker = await createWorker(config, {
          ...(flags.pools !== undefined ? { pools: flags.pools.split(',') } : {}),
        });
        // A bad manifest does not stop the worker: the analyses declared correctly are still served.
        for (const problem of worker.registryProblems) {
          log.error({ manifest: problem.file, problem: problem.message }, 'analysis manifest not served');
        }
        const { connectionOptions, namespace } = temporalSettings();
        log.info(
          {
            task_queue: worker.taskQueue,
            worker_queue: worker.workerQueue,
            pools: worker.pools,
            ...(Object.keys(worker.poolQueues).length > 0 ? { pool_queues: worker.poolQueues } : {}),
            analyses: worker.analyses,
            spec_commands: config.ANALYSIS_ALLOW_SPEC_COMMANDS ? 'allowed' : 'refused',
            temporal: connectionOptions.address ?? 'localhost:7233',
            namespace,
            database: redactUri(config.MONGODB_URI),
            s3_endpoint: config.AWS_ENDPOINT_URL_S3 ?? 'AWS default',
          },
          'worker started',
        );
        await worker.run();
        log.info('worker stopped');
      }),
    );
}
