import { constants, fstatSync, readlinkSync } from 'node:fs';
import { access, lstat, open, realpath, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Collection } from 'mongodb';
import { ErrorType, nonRetryable } from '../errors';
import { mapWithConcurrency } from '../concurrency';
import { checkTaskIdentity } from '../identity';
import { isInside } from '../path-containment';
import { readResultList } from '../analysis/result-files';
import { METADATA_FILE } from '../task-record';
import type { StoredRecord } from '../types';
import { s3ObjectStore, type ObjectStore } from '../storage/object-store';
import {
  checkStorable,
  folderOf,
  placement,
  recordFile,
  taskRecord,
  uploadedRecord,
  uploadMarker,
  type RecordInput,
  type Written,
} from '../storage/task-commit';

const PART_SIZE = 8 * 1024 * 1024;
const FILES_IN_PARALLEL = 8;
const HEARTBEAT_EVERY_MS = 1000;

/** What one run's upload wrote. */
export interface Uploaded {
  objects: number;
  bytes: number;
}

/**
 * What an upload that wrote the results itself knows, for a commit in the same step: the record it
 * read and the record whose copy it put last. Never part of a step's result or input.
 */
export interface UploadedHere extends Uploaded {
  written?: Written;
}

/**
 * Uploads a task's results from the run's folder on this worker to where its record will say
 * (placement: the task's folder for a first run, a folder beside the record's objects for a
 * rerun), and removes the local folder once everything is up. The task is checked against itself
 * first (checkTaskIdentity), and the record against what the database takes, so that nothing is
 * uploaded for a task or a record that will be refused. The files are those of the listing the
 * run's folder keeps (readResultList), never a list in the step's input. Objects left in that
 * folder by an earlier, interrupted attempt are removed first: no record names them. Such an
 * attempt left the folder's marker (uploadMarker), put before its first object and removed by the
 * commit, so only a folder with a marker is listed, or the folder of a retried step.
 */
export async function uploadTaskResults(
  s3: S3Client,
  records: Pick<Collection<StoredRecord>, 'findOne'>,
  input: RecordInput,
  step: {
    signal: AbortSignal;
    heartbeat(details: unknown): void;
    /** A later attempt of its step: an earlier one, of a worker of any version, may have begun. */
    retry?: boolean;
  },
): Promise<UploadedHere> {
  checkTaskIdentity(input.task);
  const objects = s3ObjectStore(s3);
  const current = await records.findOne(
    { _id: input.task.hash },
    { projection: { _id: 1, location: 1, dispatch_id: 1 } },
  );
  const { location, committed } = placement(input, current);
  const { bucket, prefix } = folderOf(location);
  // File names are values, never keys: the record is as storable without them.
  checkStorable(taskRecord(input, [], location));
  const resultsDir = join(input.run.workDir, 'results');
  if (committed || !(await exists(resultsDir))) {
    // A record of this dispatch is there: its objects stay as they are. Otherwise, only an
    // attempt that uploaded everything removes the folder; its completion may have been lost on
    // the way to the server (a server restart), and this is its retry. The copy of the record,
    // uploaded last, tells whether that attempt finished.
    if (committed || (await uploadedRecord(objects, input, location))) {
      await rm(input.run.workDir, { recursive: true, force: true });
      return await countUploaded(objects, bucket, prefix);
    }
    throw nonRetryable(
      ErrorType.ResultsLost,
      `the results of this run are no longer on this worker (${input.run.workDir}); the task runs again`,
    );
  }
  const root = await resultsRoot(input.run.workDir, resultsDir);
  const files = await readResultList(input.run);
  const metadata = recordFile(input, files, location);
  const marker = uploadMarker(location);
  if (step.retry || (await markerFound(s3, marker))) await removeUnder(objects, bucket, prefix);
  await s3.send(new PutObjectCommand({ Bucket: marker.bucket, Key: marker.key, Body: '', ContentLength: 0 }));
  let bytes: number;
  try {
    bytes = await putFiles(s3, { bucket, prefix, root, files }, step);
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: prefix + METADATA_FILE,
        Body: metadata,
        ContentType: 'application/x-ndjson',
      }),
    );
  } catch (err) {
    // A rerun stopped half-way (cancelled, refused) takes its partial copy away from beside the
    // record it did not replace; a run that cannot, leaves it to the next run of the task.
    if (current) await removeUnder(objects, bucket, prefix, [marker.key]).catch(() => undefined);
    throw err;
  }
  await rm(input.run.workDir, { recursive: true, force: true });
  return {
    objects: files.length + 1,
    bytes,
    written: { current, record: taskRecord(input, files, location) },
  };
}

/**
 * Uploads the result files, each from the file opened for it; returns their bytes. A failure
 * stops the others and is rethrown once none is in flight, so that what it leaves can be removed.
 */
async function putFiles(
  s3: S3Client,
  target: { bucket: string; prefix: string; root: string; files: string[] },
  step: { signal: AbortSignal; heartbeat(details: unknown): void },
): Promise<number> {
  const stop = abortOn(step.signal);
  const inFlight = new Set<Promise<void>>();
  let bytes = 0;
  let done = 0;
  let beaten = performance.now();
  const putOne = async (file: string) => {
    const { handle, size } = await openResult(target.root, file);
    // The handle outlives its stream, so that it is closed here, once, whatever the upload did.
    let body: ReturnType<FileHandle['createReadStream']> | undefined;
    const abort = abortOn(stop.signal);
    try {
      const params = { Bucket: target.bucket, Key: target.prefix + file };
      if (size < PART_SIZE) {
        // A file of one part goes up in one request, read whole (at most a part per file in
        // flight): lib-storage's Upload costs each file of a folder of small ones more than its
        // bytes do (a fifth of the folder's time, measured).
        const data = await readPart(handle, size);
        bytes += data.length;
        await s3.send(new PutObjectCommand({ ...params, Body: data }), { abortSignal: abort.signal });
      } else {
        bytes += size;
        body = handle.createReadStream({ autoClose: false });
        const upload = new Upload({
          client: s3,
          params: { ...params, Body: body },
          partSize: PART_SIZE,
          queueSize: 4,
          abortController: abort,
        });
        await upload.done();
      }
    } finally {
      // A folder of thousands of files would otherwise leave a listener per file on `stop`.
      abort.release();
      body?.destroy();
      // Waits for a read still in flight (an aborted upload) before closing.
      await handle.close();
    }
    done += 1;
    // A heartbeat is encoded and queued however often the server hears of it: once a file, it
    // would cost a folder of small files more than their checks do.
    if (performance.now() - beaten >= HEARTBEAT_EVERY_MS || done === target.files.length) {
      beaten = performance.now();
      step.heartbeat({ uploaded: done, of: target.files.length });
    }
  };
  try {
    await mapWithConcurrency(target.files, FILES_IN_PARALLEL, (file) => {
      const put = putOne(file);
      inFlight.add(put);
      return put.finally(() => inFlight.delete(put));
    });
  } catch (err) {
    stop.abort();
    await Promise.allSettled(inFlight);
    throw err;
  } finally {
    stop.release();
  }
  return bytes;
}

/**
 * The first `size` bytes of an open file, its size when it was opened: a file that a process left
 * behind is still growing never makes a body larger than a part.
 */
async function readPart(handle: FileHandle, size: number): Promise<Buffer> {
  const data = Buffer.allocUnsafe(size);
  let filled = 0;
  while (filled < size) {
    const { bytesRead } = await handle.read(data, filled, size - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled === size ? data : data.subarray(0, filled);
}

/** Every object under `prefix`, and the keys `also` of the same bucket, in the same deletes. */
async function removeUnder(
  objects: ObjectStore,
  bucket: string,
  prefix: string,
  also: string[] = [],
): Promise<void> {
  const listed = await objects.list(bucket, prefix);
  await objects.remove(bucket, [...listed.map(({ key }) => key), ...also]);
}

async function markerFound(s3: S3Client, marker: { bucket: string; key: string }): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: marker.bucket, Key: marker.key }));
    return true;
  } catch (err) {
    if ((err as Error).name === 'NotFound' || (err as Error).name === 'NoSuchKey') return false;
    throw err;
  }
}

/** The results folder, refused when it is no longer a folder of the run's own (a link put there). */
async function resultsRoot(workDir: string, resultsDir: string): Promise<string> {
  const [folder, root, work] = await Promise.all([
    lstat(resultsDir),
    realpath(resultsDir),
    realpath(workDir),
  ]);
  if (!folder.isDirectory() || !isInside(work, root))
    throw nonRetryable(
      ErrorType.UnsafeResults,
      `the results folder ${resultsDir} is not a folder of the run's own`,
    );
  return root;
}

/**
 * Opens a result file for its upload without following a symlink, and checks what was opened:
 * a regular file inside the results folder. The listing checked the files when the analysis
 * ended; a process it left behind may have swapped one for a link since, and only the open file
 * itself is past such a swap. A result listed as a link inside the folder is opened at its target.
 * Returns the file's size when opened, from the same check.
 */
async function openResult(root: string, file: string): Promise<{ handle: FileHandle; size: number }> {
  const listed = join(root, file);
  const refuse = (why: string) =>
    nonRetryable(ErrorType.UnsafeResults, `Result ${file} ${why}; nothing of it is uploaded`);
  // Most results are plain files: opened at once, resolved only when the name is a link.
  let handle = await openNoFollow(listed);
  if (!handle) {
    const target = await realpath(listed).catch(() => listed);
    if (!isInside(root, target)) throw refuse('now leaves the results folder');
    handle = await openNoFollow(target);
    if (!handle) throw refuse('became a symlink');
  }
  try {
    // Asked of the open descriptor, synchronously: both are answered from the kernel's memory,
    // never from the disk, and a round trip through libuv's thread pool for each would cost a
    // small file more than reading it does.
    const stats = fstatSync(handle.fd);
    if (!stats.isFile()) throw refuse('is not a regular file');
    // Where the descriptor really is, past every folder on the way. Without /proc (not Linux),
    // where the name leads now.
    const opened = whereOpened(handle.fd) ?? (await realpath(listed).catch(() => listed));
    if (!isInside(root, opened)) throw refuse('was opened outside the results folder');
    return { handle, size: stats.size };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

function whereOpened(fd: number): string | undefined {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
}

/** The file at `path`, or undefined when its last name is a symlink (ELOOP); never blocks on a FIFO. */
async function openNoFollow(path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') return undefined;
    throw err;
  }
}

/** What an upload that finished wrote: its objects, and the bytes of the results (the record's copy left out). */
async function countUploaded(objects: ObjectStore, bucket: string, prefix: string): Promise<Uploaded> {
  const listed = await objects.list(bucket, prefix);
  const results = listed.filter((object) => object.key !== prefix + METADATA_FILE);
  return { objects: listed.length, bytes: results.reduce((sum, object) => sum + object.size, 0) };
}

export const createStorageActivities = ({
  s3,
  records,
}: {
  s3: S3Client;
  records: Pick<Collection<StoredRecord>, 'findOne'>;
}) => {
  return {
    /**
     * Uploads a task's results (uploadTaskResults). Runs on the worker that ran the task (its own
     * task queue), because the files are on that worker's disk: the job sends it there when the run
     * could not upload them itself.
     */
    async uploadResults(input: RecordInput): Promise<Uploaded> {
      const context = Context.current();
      const { written: _kept, ...uploaded } = await uploadTaskResults(s3, records, input, {
        signal: context.cancellationSignal,
        heartbeat: (details) => context.heartbeat(details),
        retry: context.info.attempt > 1,
      });
      return uploaded;
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

/** A controller aborted with `signal`, until `release` detaches it. */
function abortOn(signal: AbortSignal): AbortController & { release(): void } {
  const controller = new AbortController();
  const abort = () => controller.abort();
  if (signal.aborted) controller.abort();
  else signal.addEventListener('abort', abort, { once: true });
  return Object.assign(controller, { release: () => signal.removeEventListener('abort', abort) });
}
