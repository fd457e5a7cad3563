import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, openSync, rmSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { mapWithConcurrency } from '../src/concurrency';
import { s3ObjectStore } from '../src/storage/object-store';
import { listObjects } from '../src/storage/s3';
import type { TransferCase, TransferResult } from './p9-transfer-run';

const ROOT = join(__dirname, '..');
const MIB = 2 ** 20;
/** Objects fetched and files sent at once: the project's own (inputs.ts, storage.ts). */
const CONCURRENCY = 8;
/** Parts of one large upload in flight: the project's own, and lib-storage's default. */
const QUEUE_SIZE = 4;

export interface TransferPair {
  name: string;
  objects: number;
  bytes: number;
  project: TransferResult;
  sdk: TransferResult;
}

export interface TransferBenchResult {
  concurrency: number;
  smallObjects: number;
  smallObjectBytes: number;
  largeBytes: number;
  pairs: TransferPair[];
}

/** One case in a process of its own (tsx, as the baseline worker runs), its result from stdout. */
function runCase(spec: TransferCase, env: NodeJS.ProcessEnv): TransferResult {
  rmSync(spec.dir, { recursive: true, force: true });
  mkdirSync(spec.dir, { recursive: true });
  try {
    const out = execFileSync(
      process.execPath,
      ['--require', 'tsx/cjs', join(ROOT, 'bench', 'p9-transfer-run.ts'), JSON.stringify(spec)],
      {
        cwd: ROOT,
        env: { ...env, LOG_LEVEL: 'warn', NODE_NO_WARNINGS: '1' },
        encoding: 'utf8',
        maxBuffer: 16 * MIB,
      },
    );
    return JSON.parse(out.trim().split('\n').at(-1) ?? '') as TransferResult;
  } finally {
    rmSync(spec.dir, { recursive: true, force: true });
  }
}

/** The fastest of the runs, with the highest peak RSS of them. */
function fastest(runs: TransferResult[]): TransferResult {
  const best = runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  return { ...best, peakRss: Math.max(...runs.map((run) => run.peakRss)) };
}

/** A file of `bytes` written a MiB of fresh random bytes at a time, never held whole. */
function writeLargeFile(path: string, bytes: number): void {
  const fd = openSync(path, 'w');
  try {
    for (let written = 0; written < bytes; written += MIB)
      writeSync(fd, randomBytes(Math.min(MIB, bytes - written)));
  } finally {
    closeSync(fd);
  }
}

/**
 * P9: data moved the project's way against a plain parallel `@aws-sdk/client-s3` transfer with the
 * same concurrency, on the same bucket in the same run. Downloads: a zarr-like folder of small
 * chunks (downloadInputs, as a command analysis's inputs) and one large object; uploads: a folder of
 * small result files and one large file (uploadTaskResults, as the run step uploads its results).
 * Each transfer runs in a process of its own, for its peak RSS. Seeded with the plain SDK.
 */
export async function benchTransfer(options: {
  s3: S3Client;
  env: NodeJS.ProcessEnv;
  bucket: string;
  dir: string;
  smallObjects: number;
  smallObjectBytes: number;
  largeBytes: number;
  keep: boolean;
  log(message: string): void;
}): Promise<TransferBenchResult> {
  const { s3, bucket } = options;
  const dir = join(options.dir, 'p9');
  const smallDir = join(dir, 'source', 'store.zarr');
  const largeFile = join(dir, 'source-large', 'large.bin');
  mkdirSync(smallDir, { recursive: true });
  mkdirSync(join(dir, 'source-large'), { recursive: true });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  try {
    options.log(
      `P9 seeding: ${options.smallObjects} objects of ${options.smallObjectBytes} bytes, one of ${options.largeBytes / MIB} MiB`,
    );
    // zarr v2 layout: metadata beside chunks named by their indices.
    const chunkNames = Array.from({ length: options.smallObjects }, (_, index) =>
      index === 0 ? '.zarray' : `0.${Math.floor(index / 100)}.${index % 100}`,
    );
    for (const name of chunkNames) writeFileSync(join(smallDir, name), randomBytes(options.smallObjectBytes));
    writeLargeFile(largeFile, options.largeBytes);
    await mapWithConcurrency(chunkNames, 32, async (name) =>
      s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `inputs/store.zarr/${name}`,
          Body: randomBytes(options.smallObjectBytes),
        }),
      ),
    );
    await new Upload({
      client: s3,
      params: { Bucket: bucket, Key: 'inputs/large.bin', Body: createReadStream(largeFile) },
    }).done();

    const base = { bucket, concurrency: CONCURRENCY, queueSize: QUEUE_SIZE };
    const cases: Array<{ name: string; make: (way: 'project' | 'sdk', run: number) => TransferCase }> = [
      {
        name: `download a zarr store of ${options.smallObjects.toLocaleString('en-US')} objects`,
        make: (way) => ({
          ...base,
          way,
          direction: 'download',
          key: 'inputs/store.zarr/',
          dir: join(dir, way),
        }),
      },
      {
        name: `download one ${options.largeBytes / MIB} MiB object`,
        make: (way) => ({
          ...base,
          way,
          direction: 'download',
          key: 'inputs/large.bin',
          dir: join(dir, way),
        }),
      },
      {
        name: `upload ${options.smallObjects.toLocaleString('en-US')} result files`,
        make: (way, run) => ({
          ...base,
          way,
          direction: 'upload',
          key: `outputs-small-${way}-${run}/`,
          source: smallDir,
          dir: join(dir, way),
        }),
      },
      {
        name: `upload one ${options.largeBytes / MIB} MiB result file`,
        make: (way, run) => ({
          ...base,
          way,
          direction: 'upload',
          key: `outputs-large-${way}-${run}/`,
          source: largeFile,
          dir: join(dir, way),
        }),
      },
    ];
    const pairs: TransferPair[] = [];
    for (const { name, make } of cases) {
      // Three times each, in the order SDK, ours, ours, SDK, SDK, ours, so that neither side
      // always follows the other (a first read warms the page cache and the server's); the
      // fastest of the three counts.
      const runs: Record<'sdk' | 'project', TransferResult[]> = { sdk: [], project: [] };
      // Each upload to a folder of its own: none finds another's objects to remove first.
      for (const way of ['sdk', 'project', 'project', 'sdk', 'sdk', 'project'] as const) {
        options.log(`P9 ${name}: ${way === 'sdk' ? 'plain SDK' : "the project's"}`);
        runs[way].push(runCase(make(way, runs[way].length), options.env));
      }
      const [sdk, project] = [fastest(runs.sdk), fastest(runs.project)];
      if (project.objects !== sdk.objects || project.bytes !== sdk.bytes)
        throw new Error(
          `P9 ${name}: the project moved ${project.objects} objects (${project.bytes} bytes), the SDK ${sdk.objects} (${sdk.bytes})`,
        );
      pairs.push({ name, objects: sdk.objects, bytes: sdk.bytes, project, sdk });
    }
    return {
      concurrency: CONCURRENCY,
      smallObjects: options.smallObjects,
      smallObjectBytes: options.smallObjectBytes,
      largeBytes: options.largeBytes,
      pairs,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (!options.keep) {
      const store = s3ObjectStore(s3);
      const keys: string[] = [];
      for await (const object of listObjects(s3, bucket, '')) keys.push(object.key);
      await store.remove(bucket, keys);
      await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    }
  }
}
