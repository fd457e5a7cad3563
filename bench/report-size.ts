/**
 * The report at scale: 100,000 synthetic records of one dispatch (real record documents, inserted
 * in the database of the local stack), a synthetic outcome of 1,009 jobs with 900 failures of
 * three causes, then the report built from the database as `report` builds it, its size, and the
 * time headless Chromium takes to load it. A measurement, not a test:
 *
 *   eval "$(./temporal-dev.sh env)" && npx tsx bench/report-size.ts [--records N] [--keep]
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildRecord, type RunFacts } from '../src/aind/metadata';
import type { Outcome } from '../src/dispatch-outcome';
import { loadConfig } from '../src/config';
import { buildReport } from '../src/report/build';
import { renderReport } from '../src/report/html';
import type { JobRun } from '../src/report/jobs';
import { tallyRecords } from '../src/report/records';
import type { StoredRecord, Task } from '../src/types';
import { launchBrowser } from '../test/helpers/browser';
import { openClients, ROOT } from '../test/helpers/stack';
import type { TaskFailure } from '../src/workflows/messages';

const ANALYSES = ['Unit Yield', 'Spike Sorting QC', 'Behavior Summary'];
const TASKS_PER_JOB = 100;
const WINDOW = 20;
const FAILED = 900;
const BATCH = 5_000;

function flag(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
}

/** A deterministic pseudo-random stream, so that two runs measure the same data. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

function syntheticRecord(i: number, dispatchId: string, start: number, rand: () => number): StoredRecord {
  const analysis = ANALYSES[i % ANALYSES.length]!;
  const asset = `ecephys_${String(700000 + (i % 5000)).padStart(6, '0')}_2024-01-${String(1 + (i % 28)).padStart(2, '0')}`;
  const hash = createHash('sha256').update(`${dispatchId}:${i}`).digest('hex');
  // Mostly a few seconds, a long tail of slow ones.
  const seconds = (2 + 8 * rand()) * (rand() < 0.05 ? 10 : 1) * (1 + (i % 3));
  const job = Math.floor(i / TASKS_PER_JOB);
  const begin = start + Math.floor(job / WINDOW) * 600_000 + (i % TASKS_PER_JOB) * 6_000 + rand() * 1_000;
  const task: Task = {
    hash,
    analysis: {
      analysis_name: analysis,
      analysis_version: '1.4.0',
      analysis_libraries: ['numpy'],
      analysis_parameters: {},
      s3_output_bucket: 'results',
    },
    parameters: { threshold: 0.5, window_s: 5 },
    input: {
      s3_location: [`s3://open/${asset}`],
      asset_name: [asset],
      docdb_record_id: [`id-${i}`],
      file_location: [`s3://open/${asset}/units.csv`],
    },
    libraries: { numpy: '2.1.0' },
    query: '{"subject.subject_id": {"$exists": true}}',
    experimenters: ['bench'],
    location: `s3://results/${hash}`,
  };
  const run: RunFacts = {
    workerQueue: 'q',
    workDir: '/tmp/w',
    outputs: { units: Math.floor(rand() * 400), yield: rand() },
    code: { repository: 'https://github.com/example/analyses', commit: 'a'.repeat(40) },
    worker_host: `worker-${String(i % 24).padStart(2, '0')}`,
    started_at: new Date(begin).toISOString(),
    finished_at: new Date(begin + seconds * 1000).toISOString(),
    software: {
      url: 'https://github.com/example/analyses',
      run_script: 'run.py',
      language: 'Python',
      language_version: '3.12',
    },
    machine: { os: 'Linux', architecture: 'x86_64', cpu_cores: 8, system_memory_gib: 32 },
    resources: {
      wall_time_s: seconds,
      cpu_time_s: seconds * (0.5 + rand() * 0.5),
      peak_memory_mib: 200 + rand() * 1800,
    },
    worker_user: 'bench',
  };
  return buildRecord(task, run, dispatchId, ['metadata.nd.json', 'results.csv']);
}

function syntheticFailures(): TaskFailure[] {
  return Array.from({ length: 50 }, (_, i) => ({
    hash: createHash('sha256').update(`failed:${i}`).digest('hex'),
    asset_name: `ecephys_${700000 + i * 37}_2024-02-01`,
    error:
      i % 5 < 3
        ? `no file /data/ecephys_${700000 + i * 37}/units.csv in s3://open/ecephys_${700000 + i * 37}`
        : i % 5 === 3
          ? `worker ran out of memory after ${1024 + i} MiB`
          : `timed out after ${3600 + i} s`,
  }));
}

async function main(): Promise<void> {
  const count = Number(flag('--records') ?? 100_000);
  const id = randomBytes(3).toString('hex');
  const dispatchId = `bench-report-${id}`;
  const config = loadConfig({ ...process.env, DOCDB_DATABASE: `bench_${id}_report` });
  const clients = await openClients(config);
  const records = clients.mongo.db(config.DOCDB_DATABASE).collection<StoredRecord>(config.DOCDB_COLLECTION);
  const start = Date.UTC(2026, 11, 1, 8, 0, 0);
  const out = join(ROOT, 'test-output', 'bench');
  mkdirSync(out, { recursive: true });
  try {
    const rand = random(42);
    const seeding = performance.now();
    for (let from = 0; from < count; from += BATCH) {
      const docs = Array.from({ length: Math.min(BATCH, count - from) }, (_, k) =>
        syntheticRecord(from + k, dispatchId, start, rand),
      );
      await records.insertMany(docs, { ordered: false });
    }
    const seeded = (performance.now() - seeding) / 1000;

    const jobsCount = Math.ceil((count + FAILED) / TASKS_PER_JOB);
    const jobs: JobRun[] = Array.from({ length: jobsCount }, (_, index) => {
      const startMs = start + Math.floor(index / WINDOW) * 600_000 + rand() * 5_000;
      return { index, startMs, endMs: startMs + 600_000 + rand() * 30_000, status: 'COMPLETED' };
    });
    const endedAt = Math.max(...jobs.map((job) => job.endMs!));
    const outcome: Outcome = {
      status: 'completed_with_failures',
      endedAt,
      progress: {
        dispatch_id: dispatchId,
        phase: 'completed_with_failures',
        plan: {
          plan_id: dispatchId,
          assets: 5000,
          assets_without_location: 0,
          assets_without_files: 0,
          tasks_total: count + FAILED,
          tasks_new: count + FAILED,
          tasks_done: 0,
          tasks_changed_code: 0,
          tasks_to_run: count + FAILED,
          jobs: jobsCount,
          jobs_per_page: 2,
          warnings: [],
        },
        settings: {
          num_parallel_workers: WINDOW,
          tasks_per_job: TASKS_PER_JOB,
          dry_run: false,
          force: false,
          tolerated_failure_percent: 5,
        },
        analysis_names: ANALYSES,
        paused: false,
        running: 0,
        jobs_started: jobsCount,
        counts: {
          succeeded: count,
          skipped: 0,
          changed_code: 0,
          failed: FAILED,
          cancelled: 0,
          jobs_finished: jobsCount,
        },
        tasks_finished: count + FAILED,
        failures: syntheticFailures(),
        started_at: start,
        runs: 1,
      },
    };

    const gathering = performance.now();
    const tally = await tallyRecords(records, dispatchId);
    const tallied = (performance.now() - gathering) / 1000;
    const rendering = performance.now();
    const data = buildReport({
      outcome,
      view: {
        dispatchId,
        url: `http://localhost:8233/namespaces/default/workflows/dispatch-${dispatchId}`,
        json: false,
      },
      tally,
      jobs,
    });
    const html = renderReport(data);
    const rendered = (performance.now() - rendering) / 1000;
    const file = join(out, 'report-100k.html');
    writeFileSync(file, html);
    const json = JSON.stringify(data, null, 2);
    writeFileSync(join(out, 'report-100k.json'), json);

    const browser = await launchBrowser({ width: 1280, height: 900 });
    let loadMs: number[] = [];
    try {
      for (let round = 0; round < 3; round++) {
        const page = await browser.context.newPage();
        await page.route('**/*', (route) =>
          route.request().url().startsWith('file:') ? route.continue() : route.abort(),
        );
        await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
        // The page's own clock: from the start of navigation to the end of its load event.
        const timing = (await page.evaluate(
          '(() => { const e = performance.getEntriesByType("navigation")[0]; return e ? e.loadEventEnd - e.startTime : NaN; })()',
        )) as number;
        loadMs.push(timing);
        if (round === 0) await page.screenshot({ path: join(out, 'report-100k.png'), fullPage: true });
        await page.close();
      }
    } finally {
      await browser.close();
    }
    loadMs = loadMs.sort((a, b) => a - b);
    console.log(
      JSON.stringify(
        {
          records: tally.records,
          jobs: jobsCount,
          seed_s: Math.round(seeded * 10) / 10,
          records_pass_s: Math.round(tallied * 100) / 100,
          records_per_s: Math.round(tally.records / tallied),
          build_and_render_s: Math.round(rendered * 1000) / 1000,
          html_bytes: statSync(file).size,
          json_bytes: Buffer.byteLength(json),
          browser_load_ms: loadMs.map((ms) => Math.round(ms)),
          file,
        },
        null,
        2,
      ),
    );
  } finally {
    await clients.close({
      databases: process.argv.includes('--keep') ? [] : [config.DOCDB_DATABASE],
      buckets: [],
    });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
