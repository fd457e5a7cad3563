import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { link, mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { MongoClient } from 'mongodb';
import { uploadTaskResults } from '../src/activities/storage';
import { downloadInputs } from '../src/analysis/inputs';
import { keepResultList, listResultFiles } from '../src/analysis/result-files';
import { mapWithConcurrency } from '../src/concurrency';
import { loadConfig } from '../src/config';
import { createS3 } from '../src/storage/s3';
import type { RunResult } from '../src/task-record';
import type { StoredRecord } from '../src/types';
import { makeTask } from '../test/fixtures/tasks';

/** One transfer of P9, run in a process of its own so that its peak RSS is its own. */
export interface TransferCase {
  direction: 'download' | 'upload';
  way: 'project' | 'sdk';
  bucket: string;
  /** Download: the folder (ending in `/`) or object to fetch. Upload: the key prefix to write under. */
  key: string;
  /** Upload: the local folder or file to send. */
  source?: string;
  /** A scratch folder of this case's own. */
  dir: string;
  /** Objects fetched or files sent at once, the project's own figure for each side. */
  concurrency: number;
  /** Parts of one large upload in flight at once. */
  queueSize: number;
}

export interface TransferResult {
  seconds: number;
  /** CPU time (user and system) of the transferring process over the same span. */
  cpuSeconds: number;
  objects: number;
  bytes: number;
  /** VmHWM of the process after the transfer, bytes. */
  peakRss: number;
}

function peakRss(): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) * 1024 : 0;
}

/**
 * Writes what setting up a case left in the page cache (the run folder's links, an earlier case's
 * files) to disk before the clock starts, so that neither side pays for the other's writeback.
 */
function settle(): void {
  execFileSync('sync');
}

/** Starts a clock after `settle`: wall and CPU seconds since then. */
function clock(): () => { seconds: number; cpuSeconds: number } {
  settle();
  const [began, cpu] = [performance.now(), process.cpuUsage()];
  return () => {
    const used = process.cpuUsage(cpu);
    return { seconds: (performance.now() - began) / 1000, cpuSeconds: (used.user + used.system) / 1e6 };
  };
}

async function filesUnder(root: string, prefix = ''): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(join(root, prefix), { withFileTypes: true })) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) files.push(...(await filesUnder(root, relative)));
    else files.push(relative);
  }
  return files;
}

/** The plain download: list the folder, then GetObject each key streamed to disk, `concurrency` at once. */
async function sdkDownload(s3: S3Client, spec: TransferCase): Promise<void> {
  const keys: string[] = [];
  if (spec.key.endsWith('/')) {
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: spec.bucket, Prefix: spec.key, ContinuationToken: token }),
      );
      for (const item of page.Contents ?? []) if (item.Key) keys.push(item.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } else keys.push(spec.key);
  await mapWithConcurrency(keys, spec.concurrency, async (key) => {
    const answer = await s3.send(new GetObjectCommand({ Bucket: spec.bucket, Key: key }));
    const target = join(spec.dir, 'out', key);
    await mkdir(dirname(target), { recursive: true });
    await pipeline(answer.Body as Readable, createWriteStream(target));
  });
}

/** The plain upload: PutObject of each small file read whole, lib-storage Upload of a large one. */
async function sdkUpload(s3: S3Client, spec: TransferCase, root: string, files: string[]) {
  let bytes = 0;
  await mapWithConcurrency(files, spec.concurrency, async (file) => {
    const path = join(root, file);
    if (files.length === 1) {
      const upload = new Upload({
        client: s3,
        params: { Bucket: spec.bucket, Key: spec.key + file, Body: createReadStream(path) },
        queueSize: spec.queueSize,
      });
      await upload.done();
      bytes += (await stat(path)).size;
    } else {
      const body = await readFile(path);
      await s3.send(new PutObjectCommand({ Bucket: spec.bucket, Key: spec.key + file, Body: body }));
      bytes += body.length;
    }
  });
  return { objects: files.length, bytes };
}

/**
 * The project's upload of a run's results: the source linked into a run folder's `results/` as an
 * analysis would have left it, with its listing, then uploadTaskResults as the run step calls it.
 */
async function projectUpload(s3: S3Client, spec: TransferCase, root: string, files: string[]) {
  const config = loadConfig();
  const mongo = await MongoClient.connect(config.MONGODB_URI);
  try {
    const workDir = join(spec.dir, 'run');
    for (const file of files) {
      const target = join(workDir, 'results', file);
      await mkdir(dirname(target), { recursive: true });
      await link(join(root, file), target);
    }
    const listed = await listResultFiles(join(workDir, 'results'));
    const run: RunResult = {
      workerQueue: 'bench',
      workDir,
      outputs: {},
      result_files: await keepResultList(workDir, listed),
      code: {},
      worker_host: 'bench',
      started_at: new Date().toISOString(),
      finished_at: new Date().toISOString(),
    };
    const task = makeTask(
      { analysis_name: 'Bench Upload', s3_output_bucket: spec.bucket },
      { parameters: { key: spec.key } },
    );
    const records = mongo.db(config.DOCDB_DATABASE).collection<StoredRecord>(config.DOCDB_COLLECTION);
    const stop = clock();
    const uploaded = await uploadTaskResults(
      s3,
      records,
      { task, run, dispatchId: 'bench' },
      { signal: new AbortController().signal, heartbeat: () => undefined },
    );
    return {
      ...stop(),
      objects: uploaded.objects - 1,
      bytes: uploaded.bytes,
    };
  } finally {
    await mongo.close();
  }
}

async function main() {
  const spec = JSON.parse(process.argv[2] ?? '') as TransferCase;
  const s3 = createS3(loadConfig());
  let result: Omit<TransferResult, 'peakRss'>;
  if (spec.direction === 'download') {
    const out = join(spec.dir, 'out');
    const stop = clock();
    if (spec.way === 'project') await downloadInputs(s3, [`s3://${spec.bucket}/${spec.key}`], out);
    else await sdkDownload(s3, spec);
    const timed = stop();
    // Counted on disk afterwards, the same way for both: what arrived.
    const files = await filesUnder(out);
    let bytes = 0;
    for (const file of files) bytes += (await stat(join(out, file))).size;
    result = { ...timed, objects: files.length, bytes };
  } else {
    const source = spec.source ?? '';
    const single = !(await stat(source)).isDirectory();
    const root = single ? dirname(source) : source;
    const files = single ? [source.slice(root.length + 1)] : (await filesUnder(root)).sort();
    if (spec.way === 'project') result = await projectUpload(s3, spec, root, files);
    else {
      const stop = clock();
      const moved = await sdkUpload(s3, spec, root, files);
      result = { ...stop(), ...moved };
    }
  }
  s3.destroy();
  process.stdout.write(`${JSON.stringify({ ...result, peakRss: peakRss() })}\n`);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
