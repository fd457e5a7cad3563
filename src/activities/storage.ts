import { createReadStream } from 'node:fs';
import { access, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ErrorType, nonRetryable } from '../errors';
import { mapWithConcurrency } from '../concurrency';
import { METADATA_FILE } from '../task-record';
import { listObjects, type ListedObject } from '../storage/s3';
import { folderPrefix, parseS3Url } from '../storage/s3-url';
import { recordFile, type RecordInput } from '../storage/task-commit';

const PART_SIZE = 8 * 1024 * 1024;
const FILES_IN_PARALLEL = 8;

/** What one run's upload wrote. */
export interface Uploaded {
  objects: number;
  bytes: number;
}

/**
 * Uploads a task's results to `s3://<bucket>/<hash>/` from the run's folder on this worker, and
 * removes the folder once everything is up. Objects left under the prefix by an earlier,
 * interrupted attempt are removed first: without a record they are not results, and a rerun may
 * write a different set of files.
 */
export async function uploadTaskResults(
  s3: S3Client,
  input: RecordInput,
  step: { signal: AbortSignal; heartbeat(details: unknown): void },
): Promise<Uploaded> {
  const address = parseS3Url(input.task.location);
  if (!address) throw new Error(`task location ${input.task.location} is not an s3:// URL`);
  const { bucket } = address;
  const prefix = folderPrefix(address.key);
  const resultsDir = join(input.run.workDir, 'results');
  const metadata = recordFile(input);
  if (!(await exists(resultsDir))) {
    // Only an attempt that uploaded everything removes the folder; its completion may have been
    // lost on the way to the server (a server restart), and this is its retry. The copy of the
    // record, uploaded last, tells whether that attempt finished.
    if ((await readText(s3, bucket, prefix + METADATA_FILE)) === metadata) {
      const objects = await objectsUnder(s3, bucket, prefix);
      // Bytes of the results, as the first attempt counted them: the record's copy left out.
      const results = objects.filter((object) => object.key !== prefix + METADATA_FILE);
      return { objects: objects.length, bytes: results.reduce((sum, object) => sum + object.size, 0) };
    }
    throw nonRetryable(
      ErrorType.ResultsLost,
      `the results of this run are no longer on this worker (${input.run.workDir}); the task runs again`,
    );
  }
  const stale = await objectsUnder(s3, bucket, prefix);
  await mapWithConcurrency(stale, FILES_IN_PARALLEL, async (object) => {
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.key }));
  });
  let bytes = 0;
  let done = 0;
  await mapWithConcurrency(input.run.files, FILES_IN_PARALLEL, async (file) => {
    const path = join(resultsDir, file);
    // Read before adding: `bytes += await ...` would add to a total read before the await.
    const { size } = await stat(path);
    bytes += size;
    const upload = new Upload({
      client: s3,
      params: { Bucket: bucket, Key: prefix + file, Body: createReadStream(path) },
      partSize: PART_SIZE,
      queueSize: 4,
      abortController: abortOn(step.signal),
    });
    await upload.done();
    step.heartbeat({ uploaded: ++done, of: input.run.files.length });
  });
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: prefix + METADATA_FILE,
      Body: metadata,
      ContentType: 'application/x-ndjson',
    }),
  );
  await rm(input.run.workDir, { recursive: true, force: true });
  return { objects: input.run.files.length + 1, bytes };
}

async function objectsUnder(s3: S3Client, bucket: string, prefix: string): Promise<ListedObject[]> {
  const objects: ListedObject[] = [];
  for await (const object of listObjects(s3, bucket, prefix)) objects.push(object);
  return objects;
}

/** An object's text, or undefined when there is no such object. */
async function readText(s3: S3Client, bucket: string, key: string): Promise<string | undefined> {
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return await object.Body?.transformToString();
  } catch (err) {
    if ((err as Error).name === 'NoSuchKey') return undefined;
    throw err;
  }
}

export const createStorageActivities = ({ s3 }: { s3: S3Client }) => {
  return {
    /**
     * Uploads a task's results (uploadTaskResults). Runs on the worker that ran the task (its own
     * task queue), because the files are on that worker's disk: the job sends it there when the run
     * could not upload them itself.
     */
    uploadResults(input: RecordInput): Promise<Uploaded> {
      const context = Context.current();
      return uploadTaskResults(s3, input, {
        signal: context.cancellationSignal,
        heartbeat: (details) => context.heartbeat(details),
      });
    },

    /** Drops a run's local files (dry runs, and tasks that failed after running). */
    async discardResults(input: { workDir: string }): Promise<void> {
      await rm(input.workDir, { recursive: true, force: true });
    },
  };
};

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

function abortOn(signal: AbortSignal): AbortController {
  const controller = new AbortController();
  if (signal.aborted) controller.abort();
  else signal.addEventListener('abort', () => controller.abort(), { once: true });
  return controller;
}
