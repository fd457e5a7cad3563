import { randomUUID } from 'node:crypto';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from '@temporalio/client';
import { Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import type { MongoClient } from 'mongodb';
import { createActivities } from '../activities';
import type { RegistryProblem } from '../analysis/definition';
import { loadRegistry, resolveAnalysesDir } from '../analysis/registry';
import { sweepOrphanContainers } from '../analysis/container-runtime';
import type { Config } from '../config';
import { redactText, redactUri } from '../redact';
import { connectMongo, stores } from '../storage/database';
import { createS3 } from '../storage/s3';
import { InputError } from '../errors';
import { checkSearchAttributes } from '../temporal';
import { DEFAULT_POOL, parsePools, poolTaskQueue } from '../worker-pools';
import { workflowBundle } from './bundle';
import { connectWorkerConnection } from './connection';
import { holdNewSpace, roomToPlan, tuneHeap } from './heap';
import { installRuntimeLogging } from './logging';
import { capFailureMessages } from './capped-failures';
import { createRunMetrics } from './metrics';

export interface WorkerHandle {
  /** Resolves when both workers have stopped. */
  run(): Promise<void>;
  shutdown(): void;
  taskQueue: string;
  workerQueue: string;
  /** Pools served: always `default`, then the named ones. */
  pools: string[];
  /** The task queue polled for each named pool's runs. */
  poolQueues: Record<string, string>;
  /** The analyses this worker serves, of either language. */
  analyses: string[];
  /** Manifests it could not serve, each with its file and the field at fault. */
  registryProblems: RegistryProblem[];
  /** Bare command analyses it refuses, running analyses only in containers (ANALYSIS_REQUIRE_CONTAINERS). */
  refusedBareCommands: string[];
  /** Containers left running by dead workers of this host, removed as it started. */
  sweptContainers: number;
}

export interface WorkerSetup {
  /**
   * Workflow bundle to use (tests build it once); otherwise the build's bundle when running
   * compiled, else the workflows folder bundled in a child process (the bundler's memory is not
   * kept by the worker).
   */
  workflowBundle?: WorkerOptions['workflowBundle'];
  analysesDir?: string;
  /** Pools served besides the default (`--pools`); absent: ANALYSIS_WORKER_POOLS. */
  pools?: string[];
  /** Serve Prometheus metrics on this port (`--metrics_port`), already checked to be 1..65535. */
  metricsPort?: number;
}

/**
 * A worker process runs Temporal workers: one on the shared task queue (workflows, most
 * activities and the runs of the default pool), one on a queue of its own, where uploads of the
 * results it computed are sent, and one per named pool it serves, polling only that pool's runs.
 */
export async function createWorker(config: Config, setup: WorkerSetup = {}): Promise<WorkerHandle> {
  let pools: string[];
  try {
    pools = parsePools(setup.pools ?? config.ANALYSIS_WORKER_POOLS);
  } catch (err) {
    throw new InputError(`--pools: ${(err as Error).message}`);
  }
  // Before any connection: an analysis refused (a bad `max_concurrent`) stops the worker with
  // nothing opened or written.
  const registryDir = setup.analysesDir ?? resolveAnalysesDir(config.ANALYSIS_MODULES_DIR);
  const registry = await loadRegistry(registryDir);
  try {
    installRuntimeLogging(config.LOG_LEVEL, setup.metricsPort);
  } catch (err) {
    throw new InputError(`--metrics_port ${setup.metricsPort}: ${(err as Error).message}`, { cause: err });
  }
  // Before the workflow thread starts (Worker.create), so that its heap is sized by these flags too.
  tuneHeap();
  // Bundled while the connections are made; awaited where the worker needs it.
  const bundling = setup.workflowBundle ? Promise.resolve(setup.workflowBundle) : workflowBundle();
  bundling.catch(() => undefined);
  const { connection, namespace } = await connectWorkerConnection();
  // A namespace without the project's search attributes would fail every dispatch's workflow task
  // over and over: refuse to start instead, naming the command that registers them.
  try {
    await checkSearchAttributes(connection, namespace);
  } catch (err) {
    await connection.close().catch(() => undefined);
    throw err;
  }
  let mongo: MongoClient;
  try {
    mongo = await connectMongo(config);
  } catch (err) {
    await connection.close().catch(() => undefined);
    // Say which server it is, by its hosts alone; the driver's own words are scrubbed the same way.
    const where = redactUri(config.MONGODB_URI);
    const why = redactText((err as Error).message, [config.MONGODB_URI]);
    throw new Error(`cannot reach the database at ${where}: ${why}`, { cause: err });
  }
  const s3 = createS3(config);
  const commands = registry.names().flatMap((name) => registry.command?.(name) ?? []);
  const refusedBareCommands = config.ANALYSIS_REQUIRE_CONTAINERS
    ? commands.filter((command) => !command.container).map((command) => command.name)
    : [];
  // Only where containers run at all: a worker without a runtime does not go looking for one.
  const sweptContainers = commands.some((command) => command.container)
    ? await sweepOrphanContainers(config.ANALYSIS_CONTAINER_RUNTIME)
    : 0;
  const workerQueue = `${config.TEMPORAL_TASK_QUEUE}@${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  const client = new Client({ connection, namespace });

  const activities = createActivities({
    stores: stores(mongo, config),
    s3,
    registry,
    registryDir,
    commandRoot: resolve(config.ANALYSIS_COMMAND_ROOT ?? process.cwd()),
    passEnv: config.ANALYSIS_PASS_ENV,
    allowSpecCommands: config.ANALYSIS_ALLOW_SPEC_COMMANDS,
    containerRuntime: config.ANALYSIS_CONTAINER_RUNTIME,
    requireContainers: config.ANALYSIS_REQUIRE_CONTAINERS,
    workRoot: config.ANALYSIS_WORK_DIR ?? join(tmpdir(), 'analysis-work'),
    workerQueue,
    temporal: () => client,
    metrics: createRunMetrics(Runtime.instance().metricMeter),
  });

  // Every activity's failure is capped before it reaches the history.
  const interceptors = { activity: [capFailureMessages] };
  const shared = await Worker.create({
    connection,
    namespace,
    interceptors,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowBundle: await bundling,
    activities: {
      ...activities,
      planDispatch: roomToPlan(activities.planDispatch),
      planRetry: roomToPlan(activities.planRetry),
    },
    maxConcurrentActivityTaskExecutions: config.WORKER_MAX_CONCURRENT_ACTIVITIES,
    maxConcurrentWorkflowTaskExecutions: config.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
    maxCachedWorkflows: 500,
    // Cancellation reaches an activity with the answer to its heartbeat; the default throttle
    // (80% of the heartbeat timeout) would leave a cancelled analysis running for most of a minute.
    maxHeartbeatThrottleInterval: '2 seconds',
  });
  const own = await Worker.create({
    connection,
    namespace,
    interceptors,
    taskQueue: workerQueue,
    activities: { uploadResults: activities.uploadResults, discardResults: activities.discardResults },
    maxConcurrentActivityTaskExecutions: config.WORKER_MAX_CONCURRENT_UPLOADS,
  });

  const poolQueues = Object.fromEntries(
    pools.map((pool) => [pool, poolTaskQueue(config.TEMPORAL_TASK_QUEUE, pool)]),
  );
  // Only the run step goes to a pool's queue; the job, its database steps and the upload (to this
  // worker's own queue) go where they go for every run.
  const pooled = await Promise.all(
    Object.values(poolQueues).map((taskQueue) =>
      Worker.create({
        connection,
        namespace,
        interceptors,
        taskQueue,
        activities: { runTask: activities.runTask },
        maxConcurrentActivityTaskExecutions: config.WORKER_MAX_CONCURRENT_ACTIVITIES,
        maxHeartbeatThrottleInterval: '2 seconds',
      }),
    ),
  );
  const all = [shared, own, ...pooled];
  // V8 put the growth of new spaces back to its default when the workflow thread's isolate started.
  holdNewSpace();

  return {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workerQueue,
    pools: [DEFAULT_POOL, ...pools],
    poolQueues,
    analyses: registry.names().filter((name) => !refusedBareCommands.includes(name)),
    registryProblems: registry.problems ?? [],
    refusedBareCommands,
    sweptContainers,
    async run() {
      try {
        await Promise.all(all.map((worker) => worker.run()));
      } finally {
        await mongo.close();
        s3.destroy();
        await connection.close();
      }
    },
    shutdown() {
      for (const worker of all) if (worker.getState() === 'RUNNING') worker.shutdown();
    },
  };
}
