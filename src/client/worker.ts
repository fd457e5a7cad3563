import type { Config } from '../config';
import { redactUri } from '../redact';
import { createLogger } from '../logger';
import { temporalSettings } from '../temporal';
import { createWorker } from '../workers/worker-process';

/** `worker`: runs a worker until SIGINT or SIGTERM. */
export async function runWorker(
  config: Config,
  flags: { pools?: string; metrics_port?: number },
): Promise<void> {
  const log = createLogger(config.LOG_LEVEL);
  const worker = await createWorker(config, {
    ...(flags.pools !== undefined ? { pools: flags.pools.split(',') } : {}),
    ...(flags.metrics_port !== undefined ? { metricsPort: flags.metrics_port } : {}),
  });
  // A bad manifest does not stop the worker: the analyses declared correctly are still served.
  for (const problem of worker.registryProblems) {
    log.error({ manifest: problem.file, problem: problem.message }, 'analysis manifest not served');
  }
  if (worker.refusedBareCommands.length > 0) {
    log.warn(
      { analyses: worker.refusedBareCommands },
      `bare command analyses not served, this worker runs analyses only in containers (ANALYSIS_REQUIRE_CONTAINERS=1): ${worker.refusedBareCommands.join(', ')}`,
    );
  }
  if (worker.sweptContainers > 0) {
    log.warn({ containers: worker.sweptContainers }, 'removed containers left by workers no longer running');
  }
  const { connectionOptions, namespace } = temporalSettings();
  log.info(
    {
      task_queue: worker.taskQueue,
      worker_queue: worker.workerQueue,
      pools: worker.pools,
      ...(Object.keys(worker.poolQueues).length > 0 ? { pool_queues: worker.poolQueues } : {}),
      analyses: worker.analyses,
      ...(flags.metrics_port !== undefined
        ? { metrics: `http://0.0.0.0:${flags.metrics_port}/metrics` }
        : {}),
      spec_commands:
        config.ANALYSIS_ALLOW_SPEC_COMMANDS && !config.ANALYSIS_REQUIRE_CONTAINERS ? 'allowed' : 'refused',
      container_runtime: config.ANALYSIS_CONTAINER_RUNTIME,
      temporal: connectionOptions.address ?? 'localhost:7233',
      namespace,
      database: redactUri(config.MONGODB_URI),
      s3_endpoint: config.AWS_ENDPOINT_URL_S3 ? redactUri(config.AWS_ENDPOINT_URL_S3) : 'AWS default',
    },
    'worker started',
  );
  await worker.run();
  log.info('worker stopped');
}
