import { bundleWorkflowCode, NativeConnection, Runtime, DefaultLogger, Worker } from '@temporalio/worker';
import { loadConfig } from '../src/config';
import { connectMongo } from '../src/storage/database';
import { createS3 } from '../src/storage/s3';
import { temporalSettings } from '../src/temporal';
import { createBaselineActivities, type AnchorRecord } from './baseline-activities';

/**
 * The baseline's worker, a process of its own like the dispatch worker, with the same slot and
 * cache settings (from the same configuration), on the task queue given in BENCH_TASK_QUEUE. Its
 * same-work activities use the dispatch worker's records collection and BENCH_BUCKET.
 */
async function main() {
  const taskQueue = process.env.BENCH_TASK_QUEUE;
  const bucket = process.env.BENCH_BUCKET;
  if (!taskQueue) throw new Error('BENCH_TASK_QUEUE is not set');
  if (!bucket) throw new Error('BENCH_BUCKET is not set');
  const config = loadConfig();
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const workflowBundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('./baseline-workflows'),
    logger: new DefaultLogger('WARN'),
  });
  const { connectionOptions, namespace } = temporalSettings();
  const mongo = await connectMongo(config);
  const s3 = createS3(config);
  const connection = await NativeConnection.connect(connectionOptions);
  try {
    const worker = await Worker.create({
      connection,
      namespace,
      taskQueue,
      workflowBundle,
      activities: createBaselineActivities({
        records: mongo.db(config.DOCDB_DATABASE).collection<AnchorRecord>(config.DOCDB_COLLECTION),
        s3,
        bucket,
      }),
      maxConcurrentActivityTaskExecutions: config.WORKER_MAX_CONCURRENT_ACTIVITIES,
      maxConcurrentWorkflowTaskExecutions: config.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
      maxCachedWorkflows: 500,
    });
    await worker.run();
  } finally {
    await connection.close();
    s3.destroy();
    await mongo.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
