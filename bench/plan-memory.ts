import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { provenanceLookups } from '../src/analysis/provenance-lookups';
import { loadRegistry } from '../src/analysis/registry';
import { loadConfig } from '../src/config';
import { planDispatch } from '../src/planning/plan-dispatch';
import { buildDispatchRequest } from '../src/request/options';
import { createPlanStore } from '../src/storage/plan-store';
import { roomToPlan, tuneHeap } from '../src/workers/heap';
import { createS3 } from '../src/storage/s3';
import { ensureStack, FIXTURE_ANALYSES, ROOT } from '../test/helpers/stack';
import { seedAssetRecords } from './seed';
import { benchNames, openStack } from './stack';

/**
 * The memory a dispatch's planning takes: seeds `--assets` asset records, then plans and stores
 * their dispatch in a process of its own, with the worker's heap settings, and prints that
 * process's peak resident set (VmHWM) and its resident set just before planning began.
 *
 *   npx tsx bench/plan-memory.ts [--assets 100000] [--tasks-per-job 100]
 */
const MiB = 1024 * 1024;

function residentSet(): { rss: number; hwm: number } {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** The planning process: what the worker's planning activity does, with the worker's heap settings. */
async function plan(tasksPerJob: number, dir: string): Promise<void> {
  tuneHeap();
  const config = loadConfig(process.env);
  const mongo = await new MongoClient(config.MONGODB_URI).connect();
  const s3 = createS3(config);
  try {
    const registry = await loadRegistry(FIXTURE_ANALYSES);
    const specPath = join(dir, 'spec-plan-memory.json');
    writeFileSync(specPath, JSON.stringify([{ analysis_name: 'Noop', analysis_version: 'plan-memory' }]));
    const request = buildDispatchRequest(
      { query: '{"set": "pm"}', analysis_spec: specPath, tasks_per_job: String(tasksPerJob) },
      config,
    );
    const analysisDb = mongo.db(config.DOCDB_DATABASE);
    const deps = {
      assets: mongo.db(config.ASSETS_DATABASE).collection(config.ASSETS_COLLECTION),
      records: analysisDb.collection(config.DOCDB_COLLECTION),
      s3,
      store: createPlanStore(analysisDb),
      registry,
      ...provenanceLookups(FIXTURE_ANALYSES, ROOT),
      log: () => undefined,
    };
    const before = residentSet().rss;
    const started = performance.now();
    const { summary } = await roomToPlan(() =>
      planDispatch(deps as never, request, 'plan-memory', { store: true, listTasks: false }),
    )();
    const seconds = (performance.now() - started) / 1000;
    const { hwm } = residentSet();
    console.log(
      JSON.stringify({
        tasks: summary.tasks_to_run,
        jobs: summary.jobs,
        seconds,
        rssBefore: before,
        peakRss: hwm,
      }),
    );
  } finally {
    await mongo.close();
    s3.destroy();
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      assets: { type: 'string', default: '100000' },
      'tasks-per-job': { type: 'string', default: '100' },
      child: { type: 'string' },
    },
  });
  const tasksPerJob = Number(values['tasks-per-job']);
  if (values.child) return plan(tasksPerJob, values.child);

  ensureStack();
  const names = benchNames();
  const stack = await openStack(names);
  const dir = join(ROOT, 'test-output', 'bench', names.id);
  mkdirSync(dir, { recursive: true });
  try {
    const count = Number(values.assets);
    const assets = stack.mongo.db(names.assetsDb).collection(stack.config.ASSETS_COLLECTION);
    await seedAssetRecords(assets, { set: 'pm', count, bucket: names.dataBucket });
    const out = execFileSync(
      process.execPath,
      ['--require', 'tsx/cjs', __filename, '--child', dir, '--tasks-per-job', String(tasksPerJob)],
      { env: stack.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const result = JSON.parse(out.trim().split('\n').at(-1)!) as {
      tasks: number;
      jobs: number;
      seconds: number;
      rssBefore: number;
      peakRss: number;
    };
    console.log(
      `planned ${result.tasks} tasks of ${count} assets in ${result.jobs} jobs (${tasksPerJob} per job), ` +
        `${result.seconds.toFixed(1)} s: peak RSS ${(result.peakRss / MiB).toFixed(0)} MiB, ` +
        `${(result.rssBefore / MiB).toFixed(0)} MiB before planning`,
    );
  } finally {
    await stack.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
