import type { S3Client } from '@aws-sdk/client-s3';
import { discoverFiles } from '../src/planning/discover';
import { mapWithConcurrency } from '../src/concurrency';
import { listObjects } from '../src/storage/s3';
import { seedObjects } from './seed';

export interface DiscoveryResult {
  prefixes: number;
  objects: number;
  concurrency: number;
  seedSeconds: number;
  /** Prefixes listed one after another (a leading subset when `sequentialPrefixes` < `prefixes`). */
  sequentialPrefixes: number;
  sequentialSeconds: number;
  rawSeconds: number;
  discoverSeconds: number;
  sequentialPrefixesPerSecond: number;
  rawPrefixesPerSecond: number;
  discoverPrefixesPerSecond: number;
  /** discover vs one-after-another, by rate. */
  speedupVsSequential: number;
  /** discover vs the raw parallel sweep, by rate. */
  ratioVsRaw: number;
  /** Every tenth prefix only: assets scattered among others, where a walk cannot share pages. */
  sparse: {
    prefixes: number;
    rawPrefixesPerSecond: number;
    discoverPrefixesPerSecond: number;
    ratioVsRaw: number;
  };
  latency?: {
    ms: number;
    prefixes: number;
    sequentialPrefixes: number;
    sequentialPrefixesPerSecond: number;
    discoverPrefixesPerSecond: number;
    speedupVsSequential: number;
  };
}

/** One after another, following continuation tokens, keeping keys with the extension: the original tool's way. */
async function listSequentially(
  s3: S3Client,
  bucket: string,
  prefixes: string[],
  extension: string,
): Promise<number> {
  let found = 0;
  for (const prefix of prefixes) {
    for await (const { key } of listObjects(s3, bucket, `${prefix}/`)) if (key.endsWith(extension)) found++;
  }
  return found;
}

/** The least a parallel sweep can do: `concurrency` prefixes listed at once, keys only counted. */
async function listRaw(
  s3: S3Client,
  bucket: string,
  prefixes: string[],
  concurrency: number,
): Promise<number> {
  let keys = 0;
  await mapWithConcurrency(prefixes, concurrency, async (prefix) => {
    for await (const _object of listObjects(s3, bucket, `${prefix}/`)) keys++;
  });
  return keys;
}

/**
 * P5: discovery (planning's `discoverFiles`, at the concurrency planning uses) over `prefixes`
 * asset prefixes (one matching file each, and one other in every fourth), vs (a) listing one prefix after
 * another and (b) a raw parallel sweep at the same concurrency. Rates in prefixes per second.
 */
export async function benchDiscovery(options: {
  s3: S3Client;
  bucket: string;
  prefixes: number;
  sequentialPrefixes: number;
  concurrency: number;
  rounds: number;
  /** Also measured through a client that waits this long before each request, as a remote S3 would. */
  latency?: { s3: S3Client; ms: number; prefixes: number; sequentialPrefixes: number };
}): Promise<DiscoveryResult> {
  const { s3, bucket } = options;
  const prefixes = Array.from(
    { length: options.prefixes },
    (_, i) => `assets/asset_${String(i).padStart(6, '0')}`,
  );
  // Every prefix holds one file to find; every fourth also one to leave out, so the filter has work.
  const keys = prefixes.flatMap((prefix, i) => [
    `${prefix}/ecephys/units.csv`,
    ...(i % 4 === 0 ? [`${prefix}/metadata.json`] : []),
  ]);
  const seedStarted = performance.now();
  await seedObjects(s3, bucket, keys, 64);
  const seedSeconds = (performance.now() - seedStarted) / 1000;
  const locations = prefixes.map((prefix) => `s3://${bucket}/${prefix}`);
  const timed = async (work: () => Promise<number>, expected: number) => {
    const started = performance.now();
    const count = await work();
    if (count !== expected) throw new Error(`listing found ${count}, expected ${expected}`);
    return (performance.now() - started) / 1000;
  };

  const sequentialSet = prefixes.slice(0, options.sequentialPrefixes);
  const sequentialSeconds = await timed(
    () => listSequentially(s3, bucket, sequentialSet, '.csv'),
    sequentialSet.length,
  );
  let rawSeconds = Infinity;
  let discoverSeconds = Infinity;
  for (let round = 0; round < options.rounds; round++) {
    rawSeconds = Math.min(
      rawSeconds,
      await timed(() => listRaw(s3, bucket, prefixes, options.concurrency), keys.length),
    );
    discoverSeconds = Math.min(
      discoverSeconds,
      await timed(async () => {
        const files = await discoverFiles(s3, locations, '.csv', options.concurrency);
        return [...files.values()].reduce((sum, urls) => sum + urls.length, 0);
      }, prefixes.length),
    );
  }
  const rate = (count: number, seconds: number) => count / seconds;
  const scattered = prefixes.filter((_, i) => i % 10 === 0);
  const scatteredKeys = scattered.length + Math.ceil(scattered.length / 2);
  let sparseRaw = Infinity;
  let sparseDiscover = Infinity;
  for (let round = 0; round < options.rounds; round++) {
    sparseRaw = Math.min(
      sparseRaw,
      await timed(() => listRaw(s3, bucket, scattered, options.concurrency), scatteredKeys),
    );
    sparseDiscover = Math.min(
      sparseDiscover,
      await timed(async () => {
        const files = await discoverFiles(
          s3,
          scattered.map((prefix) => `s3://${bucket}/${prefix}`),
          '.csv',
          options.concurrency,
        );
        return [...files.values()].reduce((sum, urls) => sum + urls.length, 0);
      }, scattered.length),
    );
  }
  let latency: DiscoveryResult['latency'];
  if (options.latency) {
    const { s3: slow, ms, prefixes: count, sequentialPrefixes } = options.latency;
    const sequential = await timed(
      () => listSequentially(slow, bucket, prefixes.slice(0, sequentialPrefixes), '.csv'),
      sequentialPrefixes,
    );
    const discovered = await timed(async () => {
      const files = await discoverFiles(slow, locations.slice(0, count), '.csv', options.concurrency);
      return [...files.values()].reduce((sum, urls) => sum + urls.length, 0);
    }, count);
    latency = {
      ms,
      prefixes: count,
      sequentialPrefixes,
      sequentialPrefixesPerSecond: rate(sequentialPrefixes, sequential),
      discoverPrefixesPerSecond: rate(count, discovered),
      speedupVsSequential: rate(count, discovered) / rate(sequentialPrefixes, sequential),
    };
  }
  return {
    prefixes: options.prefixes,
    objects: keys.length,
    concurrency: options.concurrency,
    seedSeconds,
    sequentialPrefixes: sequentialSet.length,
    sequentialSeconds,
    rawSeconds,
    discoverSeconds,
    sequentialPrefixesPerSecond: rate(sequentialSet.length, sequentialSeconds),
    rawPrefixesPerSecond: rate(prefixes.length, rawSeconds),
    discoverPrefixesPerSecond: rate(prefixes.length, discoverSeconds),
    speedupVsSequential:
      rate(prefixes.length, discoverSeconds) / rate(sequentialSet.length, sequentialSeconds),
    ratioVsRaw: rate(prefixes.length, discoverSeconds) / rate(prefixes.length, rawSeconds),
    sparse: {
      prefixes: scattered.length,
      rawPrefixesPerSecond: rate(scattered.length, sparseRaw),
      discoverPrefixesPerSecond: rate(scattered.length, sparseDiscover),
      ratioVsRaw: sparseRaw / sparseDiscover,
    },
    ...(latency ? { latency } : {}),
  };
}
