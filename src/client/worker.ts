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
    .addHelpText(
      'after',
      '\nRun one per machine (or more); all workers on the same TEMPORAL_TASK_QUEUE share the work.\nStops cleanly on SIGINT/SIGTERM, finishing or handing back what it holds.',
    )
    .action(() =>
      runCommand(async ({ config }) => {
        const log = createLogger(config.LOG_LEVEL);
        // The worker SDK (native bridge, bundler) is loaded only by this command, keeping every other
        // command's start-up short.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { createWorker } = require('../workers/worker-process') as typeof WorkerModule;
        const worker = await createWorker(config);
        // A bad manifest does not stop the worker: the analyses declared correctly are still served.
        for (const problem of worker.registryProblems) {
          log.error({ manifest: problem.file, problem: problem.message }, 'analysis manifest not served');
        }
        const { connectionOptions, namespace } = temporalSettings();
        log.info(
          {
            task_queue: worker.taskQueue,
            worker_queue: worker.workerQueue,
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
