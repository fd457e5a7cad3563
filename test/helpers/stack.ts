import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  DeleteBucketCommand,
} from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { MongoClient } from 'mongodb';
import { createS3 } from '../../src/storage/s3';
import { loadConfig, type Config } from '../../src/config';
import { temporalSettings } from '../../src/temporal';
import { createWorker, type WorkerHandle } from '../../src/workers/worker-process';

export const ROOT = join(__dirname, '..', '..');
export const FIXTURE_ANALYSES = join(ROOT, 'test', 'fixtures', 'analyses');

let stackReady = false;

/**
 * Brings the local stack up through the project's own script (a no-op when it already runs) and
 * loads its environment into this process, the way a user's `eval "$(./temporal-dev.sh env)"` does.
 */
export function ensureStack(): void {
  if (stackReady) return;
  if (!process.env.ANALYSIS_TEST_STACK_UP) {
    execFileSync(join(ROOT, 'temporal-dev.sh'), ['up'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const env = execFileSync(join(ROOT, 'temporal-dev.sh'), ['env'], { encoding: 'utf8' });
  for (const line of env.split('\n')) {
    const match = /^export ([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match) process.env[match[1]!] = match[2]!.replace(/^['"]|['"]$/g, '');
  }
  stackReady = true;
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** Workflows bundled once per test process; every worker of the process reuses the bundle. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: require.resolve('../../src/workflows'),
    logger: quietLogger,
  });
  return bundle;
}

const quietLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};

/** Clients of the local stack, connected the way the CLI and the workers connect. */
export interface StackClients {
  client: Client;
  mongo: MongoClient;
  s3: S3Client;
  /** Drops the databases, removes the buckets (with their objects), then closes the clients. */
  close(cleanup: { databases: string[]; buckets: string[] }): Promise<void>;
}

export async function openClients(config: Config): Promise<StackClients> {
  const { connectionOptions, namespace } = temporalSettings();
  const connection = await Connection.connect(connectionOptions);
  const client = new Client({ connection, namespace });
  const mongo = await new MongoClient(config.MONGODB_URI).connect();
  const s3 = createS3(config);
  return {
    client,
    mongo,
    s3,
    async close({ databases, buckets }) {
      for (const db of databases) {
        await mongo
          .db(db)
          .dropDatabase()
          .catch(() => undefined);
      }
      for (const bucket of buckets) await removeBucket(s3, bucket).catch(() => undefined);
      await mongo.close();
      s3.destroy();
      await connection.close();
    },
  };
}

export interface TestStack extends Omit<StackClients, 'close'> {
  name: string;
  config: Config;
  /** Environment a CLI child process needs to talk to this test's databases, bucket and queue. */
  env: NodeJS.ProcessEnv;
  bucket: string;
  workers: WorkerHandle[];
  startWorker(overrides?: Partial<Record<string, string>>): Promise<WorkerHandle>;
  close(): Promise<void>;
}

/** A test's own databases, bucket and task queue on the shared local stack. */
export async function testStack(label: string): Promise<TestStack> {
  ensureStack();
  const name = `${label
    .replace(/[^a-z0-9]/gi, '')
    .toLowerCase()
    .slice(0, 20)}${randomBytes(3).toString('hex')}`;
  const bucket = `t-${name}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_TASK_QUEUE: `test-${name}`,
    ASSETS_DATABASE: `assets_${name}`,
    DOCDB_DATABASE: `analysis_${name}`,
    ANALYSIS_BUCKET: bucket,
    ANALYSIS_WORK_DIR: join(ROOT, 'test-output', 'work', name),
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  };
  const config = loadConfig(env);
  const clients = await openClients(config);
  await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const workers: WorkerHandle[] = [];
  const runs: Promise<void>[] = [];

  return {
    name,
    config,
    env,
    client: clients.client,
    mongo: clients.mongo,
    s3: clients.s3,
    bucket,
    workers,
    async startWorker(overrides = {}) {
      const workerConfig = loadConfig({ ...env, ...overrides });
      const worker = await createWorker(workerConfig, { workflowBundle: await workflowBundle() });
      workers.push(worker);
      runs.push(worker.run());
      return worker;
    },
    async close() {
      for (const worker of workers) worker.shutdown();
      await Promise.allSettled(runs);
      await clients.close({ databases: [config.ASSETS_DATABASE, config.DOCDB_DATABASE], buckets: [bucket] });
    },
  };
}

/** Deletes every object (a thousand per request) and then the bucket. */
async function removeBucket(s3: S3Client, bucket: string): Promise<void> {
  for (;;) {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (page.Contents ?? []).flatMap((item) => (item.Key ? [{ Key: item.Key }] : []));
    if (keys.length === 0) break;
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
  }
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
}

/** Every key under a prefix. */
export async function listKeys(s3: S3Client, bucket: string, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const item of page.Contents ?? []) keys.push(item.Key!);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}
