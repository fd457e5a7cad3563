import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Db } from 'mongodb';
import { provenanceLookups } from '../src/analysis/provenance-lookups';
import { loadRegistry } from '../src/analysis/registry';
import type { Config } from '../src/config';
import { buildDispatchRequest } from '../src/request/options';
import { planDispatch } from '../src/planning/plan-dispatch';
import { createPlanStore } from '../src/storage/plan-store';
import { FIXTURE_ANALYSES, ROOT } from '../test/helpers/stack';
import { seedAssetRecords } from './seed';

export interface PlanningResult {
  records: number;
  rounds: number;
  seedSeconds: number;
  /** Best of the rounds, in seconds, for each side. */
  cursorSeconds: number;
  planSeconds: number;
  /** Where planning's time went in its best round: selection (the cursor), then everything after. */
  selectSeconds: number;
  expandSeconds: number;
  cursorRecordsPerSecond: number;
  planRecordsPerSecond: number;
  ratio: number;
  /** The dispatch's planning, which also stores the plan pages; one round, for reference. */
  planAndStoreSeconds?: number;
}

/**
 * P4: planning (selection, expansion, identity hashes, duplicate check; no file discovery) over
 * `records` asset records vs a raw driver cursor reading the same records with the same filter,
 * projection and batch size. Alternating rounds; the best round of each side counts.
 */
export async function benchPlanning(options: {
  db: Db;
  s3: S3Client;
  config: Config;
  bucket: string;
  dir: string;
  records: number;
  rounds: number;
  withStore: boolean;
}): Promise<PlanningResult> {
  const { db } = options;
  const assets = db.collection('data_assets');
  const seedStarted = performance.now();
  await seedAssetRecords(assets, { set: 'p4', count: options.records, bucket: options.bucket });
  const seedSeconds = (performance.now() - seedStarted) / 1000;

  const specPath = join(options.dir, 'spec-p4.json');
  writeFileSync(specPath, JSON.stringify([{ analysis_name: 'Noop', analysis_version: 'p4' }]));
  const request = buildDispatchRequest({ query: '{}', analysis_spec: specPath }, options.config);
  const registry = await loadRegistry(FIXTURE_ANALYSES);
  const lookups = provenanceLookups(FIXTURE_ANALYSES, ROOT);
  const store = createPlanStore(db);

  const plan = async (storePlan: boolean) => {
    const started = performance.now();
    let selected = 0;
    const log = (message: string) => {
      if (message.startsWith('selected ')) selected = performance.now();
    };
    const { summary } = await planDispatch(
      {
        assets,
        records: db.collection('analysis_records'),
        s3: options.s3,
        store,
        registry,
        ...lookups,
        log,
      },
      request,
      'bench-p4',
      { store: storePlan, listTasks: !storePlan },
    );
    if (summary.tasks_to_run !== options.records)
      throw new Error(`planned ${summary.tasks_to_run} of ${options.records} tasks`);
    const finished = performance.now();
    return {
      seconds: (finished - started) / 1000,
      select: (selected - started) / 1000,
      expand: (finished - selected) / 1000,
    };
  };
  // The baseline: what reading the selection costs at the least, with what select.ts asks for.
  const cursor = async () => {
    const started = performance.now();
    let count = 0;
    const found = assets.find({}, { projection: { _id: 1, location: 1, name: 1 }, batchSize: 1000 });
    for await (const doc of found) if (doc._id !== undefined) count++;
    if (count !== options.records) throw new Error(`cursor read ${count} of ${options.records} records`);
    return (performance.now() - started) / 1000;
  };

  let best = { seconds: Infinity, select: 0, expand: 0 };
  let cursorSeconds = Infinity;
  for (let round = 0; round < options.rounds; round++) {
    cursorSeconds = Math.min(cursorSeconds, await cursor());
    const planned = await plan(false);
    if (planned.seconds < best.seconds) best = planned;
  }
  let planAndStoreSeconds: number | undefined;
  if (options.withStore) {
    planAndStoreSeconds = (await plan(true)).seconds;
    await store.delete('bench-p4');
  }
  return {
    records: options.records,
    rounds: options.rounds,
    seedSeconds,
    cursorSeconds,
    planSeconds: best.seconds,
    selectSeconds: best.select,
    expandSeconds: best.expand,
    cursorRecordsPerSecond: options.records / cursorSeconds,
    planRecordsPerSecond: options.records / best.seconds,
    ratio: cursorSeconds / best.seconds,
    ...(planAndStoreSeconds !== undefined ? { planAndStoreSeconds } : {}),
  };
}
