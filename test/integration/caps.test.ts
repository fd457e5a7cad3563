import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import type { Lease } from '../../src/storage/leases';
import { LEASE_TTL_MS } from '../../src/storage/leases';
import { runCli } from '../helpers/cli';
import { seedAssets, writeSpec } from '../helpers/data';
import { maxOverlap } from '../helpers/records';
import { ROOT, testStack, type TestStack } from '../helpers/stack';
import { WorkerPool, type WorkerProcess } from '../faults/helpers/workers';

/** "Stamp" (max_concurrent 2) and "Hold" (max_concurrent 1): both mark their start and end. */
const CAP_ANALYSES = join(ROOT, 'test', 'fixtures', 'cap-analyses');
/** The longest the job waits between two asks for a slot (job.ts). */
const LONGEST_WAIT_MS = 30_000;

interface Run {
  k: number;
  start: number;
  /** Absent when the run never finished (its worker was killed). */
  end?: number;
  /** The results folder it was given: under the work folder of the worker that ran it. */
  dir: string;
}

/** Every run the marks folder saw, from the files stamp.mjs writes. */
function runsIn(marks: string): Run[] {
  return readdirSync(marks)
    .filter((file) => file.endsWith('.start'))
    .map((file) => {
      const id = file.slice(0, -'.start'.length);
      const start = JSON.parse(readFileSync(join(marks, file), 'utf8')) as { at: number; dir: string };
      const endFile = join(marks, `${id}.end`);
      const end = existsSync(endFile)
        ? (JSON.parse(readFileSync(endFile, 'utf8')) as { at: number }).at
        : undefined;
      return { k: Number(id.split('-')[0]), start: start.at, dir: start.dir, ...(end ? { end } : {}) };
    });
}

async function until<T>(what: string, check: () => T | undefined, ms = 90_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

describe('max_concurrent across dispatches and workers', () => {
  let stack: TestStack;
  let workers: WorkerPool;
  let dir: string;
  const query = '{"name": {"$regex": "^cap_"}}';
  const workDir = (label: string) => join(ROOT, 'test-output', 'work', `${stack.name}-${label}`);
  const leases = () =>
    stack.mongo.db(stack.config.DOCDB_DATABASE).collection<Lease>(`${stack.config.DOCDB_COLLECTION}_leases`);
  const dispatch = (name: string, ks: number[], ms: number, marks: string) =>
    runCli(
      [
        'dispatch',
        '--query',
        query,
        '--analysis_spec',
        writeSpec(dir, [{ analysis_name: name, analysis_version: '1' }], `spec-${name}.json`),
        '--analysis_parameters',
        writeSpec(
          dir,
          { fixed_parameters: { ms, marks }, distributed_parameters: ks.map((k) => ({ k })) } as never,
          `parameters-${ks[0]}.json`,
        ),
        '--tasks_per_job',
        '1',
        '--num_parallel_workers',
        String(ks.length),
        '--wait',
      ],
      stack.env,
      { timeoutMs: 300_000 },
    );

  before(async () => {
    stack = await testStack('caps');
    stack.env.ANALYSIS_MODULES_DIR = CAP_ANALYSES;
    dir = mkdtempSync(join(tmpdir(), 'caps-'));
    workers = new WorkerPool(stack.env, join(ROOT, 'test-output', 'caps', stack.name));
  });
  after(async () => {
    await workers?.stopAll();
    await stack?.close();
  });

  test('a worker refuses a module whose max_concurrent is below 1, by name, before it connects', async () => {
    const analyses = join(ROOT, 'test-output', `caps-bad-${stack.name}`);
    mkdirSync(analyses, { recursive: true });
    writeFileSync(
      join(analyses, 'zero.ts'),
      `import { z } from 'zod';
import { defineAnalysis } from ${JSON.stringify(join(ROOT, 'src', 'analysis', 'define'))};
export default defineAnalysis({
  name: 'Zero',
  parameters: z.object({}),
  outputs: z.object({}),
  max_concurrent: 0,
  run: async () => ({}),
});
`,
    );
    const env = { ...stack.env, ANALYSIS_MODULES_DIR: analyses };
    const spec = writeSpec(dir, [{ analysis_name: 'Zero', analysis_version: '1' }], 'spec-zero.json');
    for (const command of [['worker'], ['plan', '--query', query, '--analysis_spec', spec]]) {
      const result = await runCli(command, env, { timeoutMs: 60_000 });
      assert.equal(result.code, 2, `${command[0]}: ${result.stderr}`);
      assert.match(
        result.stderr,
        /zero\.ts: Analysis "Zero": max_concurrent: must be a whole number, at least 1/,
        command[0],
      );
    }
    // Nothing was written: the records' database holds no collection yet.
    const collections = await stack.mongo.db(stack.config.DOCDB_DATABASE).listCollections().toArray();
    assert.deepEqual(
      collections.map((collection) => collection.name),
      [],
    );
  });

  test('two dispatches on two workers never run more than max_concurrent at once', async () => {
    await seedAssets(stack, { count: 1, namePrefix: 'cap' });
    await Promise.all([
      workers.start({ ANALYSIS_WORK_DIR: workDir('a') }),
      workers.start({ ANALYSIS_WORK_DIR: workDir('b') }),
    ]);
    const marks = mkdtempSync(join(dir, 'stamp-'));
    const [first, second] = await Promise.all([
      dispatch('Stamp', [0, 1, 2, 3, 4, 5], 1_500, marks),
      dispatch('Stamp', [6, 7, 8, 9, 10, 11], 1_500, marks),
    ]);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    assert.equal(second.code, 0, second.stderr + second.stdout);

    const runs = runsIn(marks);
    assert.deepEqual(
      [...new Set(runs.map((run) => run.k))].sort((a, b) => a - b),
      Array.from({ length: 12 }, (_, k) => k),
    );
    assert.ok(
      runs.every((run) => run.end !== undefined),
      'every run finished',
    );
    const peak = maxOverlap(runs.map((run) => [run.start, run.end!]));
    assert.equal(peak, 2, `at most 2 runs of Stamp at once, and 2 did run together (peak ${peak})`);
    for (const label of ['a', 'b']) {
      assert.ok(
        runs.some((run) => run.dir.startsWith(workDir(label))),
        `worker ${label} ran some of the runs`,
      );
    }
    // Every slot was given back.
    assert.equal(await leases().countDocuments({}), 0);
  });

  test("a killed worker's slot lapses and another worker takes it within a bounded time", async () => {
    const marks = mkdtempSync(join(dir, 'hold-'));
    const long = dispatch('Hold', [100], 25_000, marks);
    const holding = await until('the first run of Hold', () => runsIn(marks)[0]);
    const lease = await leases().findOne({ _id: 'Hold#0' });
    assert.ok(lease, 'the run holds the slot Hold#0');
    const holder = workers.running().find((worker) => worker.log().includes(lease.worker));
    const other = workers.running().find((worker) => worker !== holder);
    assert.ok(holder && other, `the holding worker is one of the two: ${lease.worker}`);
    const short = dispatch('Hold', [101], 1_000, marks);
    // The second run asks and is sent back to wait while the slot is held.
    await sleep(4_000);
    assert.deepEqual(
      runsIn(marks).map((run) => run.k),
      [100],
      'no second run while the first holds the slot',
    );

    const killedAt = Date.now();
    await (holder as WorkerProcess).kill9();
    const next = await until(
      'a run on the surviving worker',
      () => runsIn(marks).find((run) => run !== holding && run.start > killedAt),
      LEASE_TTL_MS + LONGEST_WAIT_MS + 30_000,
    );
    const waited = next.start - killedAt;
    assert.ok(
      waited <= LEASE_TTL_MS + LONGEST_WAIT_MS + 5_000,
      `the slot was taken again ${waited} ms after the kill`,
    );
    const [longDone, shortDone] = await Promise.all([long, short]);
    assert.equal(longDone.code, 0, longDone.stderr + longDone.stdout);
    assert.equal(shortDone.code, 0, shortDone.stderr + shortDone.stdout);
    // One run at a time throughout: the killed run ended with its worker (its supervisor stops it).
    const runs = runsIn(marks);
    assert.ok(runs.filter((run) => run.end === undefined).length === 1, 'only the killed run has no end');
    const peak = maxOverlap(runs.map((run) => [run.start, run.end ?? killedAt]));
    assert.equal(peak, 1, `Hold ran alone throughout (peak ${peak})`);
    assert.deepEqual([...new Set(runs.map((run) => run.k))].sort(), [100, 101]);
    const survivor = workDir(workers.all.indexOf(other as WorkerProcess) === 0 ? 'a' : 'b');
    assert.ok(
      runs.filter((run) => run.start > killedAt).every((run) => run.dir.startsWith(survivor)),
      'the runs after the kill ran on the surviving worker',
    );
  });
});
