import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { MongoClient } from 'mongodb';
import { createS3 } from '../src/storage/s3';
import { loadConfig, type Config } from '../src/config';
import { FIXTURE_ANALYSES, openClients, ROOT } from '../test/helpers/stack';

/** Everything one bench run creates on the shared stack, named `bench_*` so nobody mistakes it. */
export interface BenchNames {
  id: string;
  taskQueue: string;
  baselineQueue: string;
  assetsDb: string;
  analysisDb: string;
  planDb: string;
  bucket: string;
  /** Where the dispatched assets' data lives: a bucket of its own, as at the institute. */
  dataBucket: string;
  discoveryBucket: string;
}

export function benchNames(): BenchNames {
  const id = randomBytes(3).toString('hex');
  return {
    id,
    taskQueue: `bench_${id}`,
    baselineQueue: `bench_${id}_baseline`,
    assetsDb: `bench_${id}_assets`,
    analysisDb: `bench_${id}_analysis`,
    planDb: `bench_${id}_planning`,
    // Bucket names allow no underscores.
    bucket: `bench-${id}-results`,
    dataBucket: `bench-${id}-data`,
    discoveryBucket: `bench-${id}-discovery`,
  };
}

export interface BenchStack {
  names: BenchNames;
  /** Environment of the dispatch worker process: the bench's own queue, databases and bucket. */
  env: NodeJS.ProcessEnv;
  config: Config;
  client: Client;
  mongo: MongoClient;
  s3: S3Client;
  close(): Promise<void>;
}

export async function openStack(names: BenchNames): Promise<BenchStack> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_TASK_QUEUE: names.taskQueue,
    ASSETS_DATABASE: names.assetsDb,
    DOCDB_DATABASE: names.analysisDb,
    ANALYSIS_BUCKET: names.bucket,
    ANALYSIS_MODULES_DIR: FIXTURE_ANALYSES,
    ANALYSIS_WORK_DIR: join(ROOT, 'test-output', 'bench', names.id),
    LOG_LEVEL: 'warn',
  };
  const config = loadConfig(env);
  const clients = await openClients(config);
  const buckets = [names.bucket, names.dataBucket, names.discoveryBucket];
  for (const bucket of buckets) await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    names,
    env,
    config,
    client: clients.client,
    mongo: clients.mongo,
    s3: clients.s3,
    close: () => clients.close({ databases: [names.assetsDb, names.analysisDb, names.planDb], buckets }),
  };
}

/**
 * An S3 client that waits `ms` before every request: the round trip of a remote S3 endpoint,
 * which a server on the loopback interface does not have.
 */
export function withLatency(config: Config, ms: number): S3Client {
  const s3 = createS3(config);
  s3.middlewareStack.add(
    (next) => async (args) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return next(args);
    },
    { step: 'finalizeRequest', name: 'benchLatency' },
  );
  return s3;
}

/**
 * Deletes the bench's workflow executions (dispatches, jobs, baseline parents and children) with
 * one server-side batch operation, so they do not crowd the shared server's Web UI. Waits up to
 * `waitMs`; an unfinished batch goes on in the server by itself.
 */
export async function deleteWorkflows(client: Client, taskQueues: string[], waitMs = 120_000): Promise<void> {
  const namespace = client.options.namespace;
  const jobId = randomUUID();
  await client.workflowService.startBatchOperation({
    namespace,
    jobId,
    visibilityQuery: taskQueues.map((queue) => `TaskQueue="${queue}"`).join(' OR '),
    reason: 'bench cleanup',
    deletionOperation: {},
  });
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    const { state } = await client.workflowService.describeBatchOperation({ namespace, jobId });
    if (state !== temporal.api.enums.v1.BatchOperationState.BATCH_OPERATION_STATE_RUNNING) return;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
}
