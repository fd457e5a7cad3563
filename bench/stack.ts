import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { MongoClient } from 'mongodb';
import { createS3 } from '../src/clients';
import { loadConfig, type Config } from '../src/config';
import { temporalSettings } from '../src/temporal';

export const ROOT = join(__dirname, '..');
export const FIXTURE_ANALYSES = join(ROOT, 'test', 'fixtures', 'analyses');

/** Brings the local stack up (a no-op when it runs) and loads its environment into this process. */
export function ensureStack(): void {
  execFileSync(join(ROOT, 'temporal-dev.sh'), ['up'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const env = execFileSync(join(ROOT, 'temporal-dev.sh'), ['env'], { encoding: 'utf8' });
  for (const line of env.split('\n')) {
    const match = /^export ([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match) process.env[match[1]!] = match[2]!.replace(/^['"]|['"]$/g, '');
  }
}

/** Everything one bench run creates on the shared stack, named `bench_*` so nobody mistakes it. */
export interface BenchNames {
  id: string;
  taskQueue: string;
  baselineQueue: string;
  assetsDb: string;
  analysisDb: string;
  planDb: string;
  bucket: string;
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
  const connection = await Connection.connect(temporalSettings().connectionOptions);
  const client = new Client({ connection, namespace: temporalSettings().namespace });
  const mongo = await new MongoClient(config.MONGODB_URI).connect();
  const s3 = createS3(config);
  for (const bucket of [names.bucket, names.discoveryBucket])
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    names,
    env,
    config,
    client,
    mongo,
    s3,
    async close() {
      for (const db of [names.assetsDb, names.analysisDb, names.planDb]) {
        await mongo
          .db(db)
          .dropDatabase()
          .catch(() => undefined);
      }
      for (const bucket of [names.bucket, names.discoveryBucket])
        await removeBucket(s3, bucket).catch(() => undefined);
      await mongo.close();
      s3.destroy();
      await connection.close();
    },
  };
}

/** Deletes every object (a thousand per request) and then the bucket. */
export async function removeBucket(s3: S3Client, bucket: string): Promise<void> {
  for (;;) {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (page.Contents ?? []).flatMap((item) => (item.Key ? [{ Key: item.Key }] : []));
    if (keys.length === 0) break;
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
  }
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
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
