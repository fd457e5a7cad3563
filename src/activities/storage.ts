import { createReadStream } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import {
  DeleteObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { parseS3Url } from '../clients';
import { buildRecord, METADATA_FILE, type RunResult } from '../records';
import type { Task } from '../types';

const PART_SIZE = 8 * 1024 * 1024;
const FILES_IN_PARALLEL = 8;

async function inPool<T>(items: T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(size, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(lanes);
}

export const createStorageActivities = ({ s3 }: { s3: S3Client }) => {
  async function listKeys(bucket: string, prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const item of page.Contents ?? []) if (item.Key) keys.push(item.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  return {
    /**
     * Uploads a task's results to `s3://<bucket>/<hash>/`. Runs on the worker that ran the task
     * (its own task queue), because the files are on that worker's disk. Objects left under the
     * prefix by an earlier, interrupted attempt are removed first: without a record they are not
     * results, and a rerun may write a different set of files.
     */
    async uploadResults(input: {
      task: Task;
      run: RunResult;
      dispatchId: string;
    }): Promise<{ objects: number; bytes: number }> {
      const context = Context.current();
      const { bucket, key } = parseS3Url(input.task.location);
      const prefix = `${key.replace(/\/+$/, '')}/`;
      const stale = await listKeys(bucket, prefix);
      await inPool(stale, FILES_IN_PARALLEL, async (staleKey) => {
        await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: staleKey }));
      });
      const resultsDir = join(input.run.workDir, 'results');
      let bytes = 0;
      let done = 0;
      await inPool(input.run.files, FILES_IN_PARALLEL, async (file) => {
        const path = join(resultsDir, file);
        bytes += (await stat(path)).size;
        const upload = new Upload({
          client: s3,
          params: { Bucket: bucket, Key: prefix + file, Body: createReadStream(path) },
          partSize: PART_SIZE,
          queueSize: 4,
          abortController: abortOn(context.cancellationSignal),
        });
        await upload.done();
        context.heartbeat({ uploaded: ++done, of: input.run.files.length });
      });
      const record = buildRecord(input.task, input.run, input.dispatchId);
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: prefix + METADATA_FILE,
          Body: JSON.stringify(record) + '\n',
          ContentType: 'application/x-ndjson',
        }),
      );
      await rm(input.run.workDir, { recursive: true, force: true });
      return { objects: input.run.files.length + 1, bytes };
    },

    /** Drops a run's local files (dry runs, and tasks that failed after running). */
    async discardResults(input: { workDir: string }): Promise<void> {
      await rm(input.workDir, { recursive: true, force: true });
    },
  };
};

function abortOn(signal: AbortSignal): AbortController {
  const controller = new AbortController();
  if (signal.aborted) controller.abort();
  else signal.addEventListener('abort', () => controller.abort(), { once: true });
  return controller;
}
