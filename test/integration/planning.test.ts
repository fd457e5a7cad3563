import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { MongoClient, ObjectId, type Db } from 'mongodb';
import { z } from 'zod';
import type { AnalysisRegistry } from '../../src/analysis/definition';
import { loadConfig } from '../../src/config';
import { seedDemo } from '../../src/demo/catalogue';
import { InputError } from '../../src/errors';
import { discoverFiles } from '../../src/planning/discover';
import { buildDispatchRequest } from '../../src/request/options';
import { planDispatch, type PlanDeps } from '../../src/planning/plan-dispatch';
import { mapWithConcurrency } from '../../src/concurrency';
import { createPlanStore, PLAN_COLLECTION } from '../../src/storage/plan-store';
import type { DispatchRequest } from '../../src/types';

const ROOT = join(__dirname, '..', '..');

/** The local stack's environment, as `eval "$(./temporal-dev.sh env)"` would set it. */
function stackEnv(): Record<string, string> {
  const script = join(ROOT, 'temporal-dev.sh');
  try {
    execFileSync(script, ['status'], { stdio: 'ignore' });
  } catch {
    execFileSync(script, ['up'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const env: Record<string, string> = {};
  for (const line of execFileSync(script, ['env'], { encoding: 'utf8' }).split('\n')) {
    const match = /^export ([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match) env[match[1]!] = match[2]!.replace(/^['"]|['"]$/g, '');
  }
  return env;
}

const env = stackEnv();
Object.assign(process.env, env);
const baseConfig = loadConfig({ ...process.env, ...env });
let mongo: MongoClient;
let s3: S3Client;

/** One test's own databases and buckets, seeded with the 36-asset demo catalogue. */
interface Fixture {
  assetsDb: Db;
  analysisDb: Db;
  data: string;
  results: string;
  dir: string;
  commit: { value: string | undefined };
  deps: PlanDeps;
  warnings: string[];
  request(...args: string[]): DispatchRequest;
  cleanup(): Promise<void>;
}

const registry: AnalysisRegistry = {
  get: (name) =>
    name === 'Unit Yield'
      ? {
          name,
          parameters: z.object({ isi_violations: z.number().min(0) }),
          outputs: z.object({}),
          run: async () => ({}),
        }
      : undefined,
  names: () => ['Unit Yield'],
};

async function fixture(seed = 36): Promise<Fixture> {
  const suffix = randomBytes(4).toString('hex');
  const assetsDb = mongo.db(`plan_assets_${suffix}`);
  const analysisDb = mongo.db(`plan_analysis_${suffix}`);
  const data = `plan-data-${suffix}`;
  const results = `plan-results-${suffix}`;
  await s3.send(new CreateBucketCommand({ Bucket: data }));
  await s3.send(new CreateBucketCommand({ Bucket: results }));
  if (seed) await seedDemo({ db: assetsDb, s3, assetsCollection: 'data_assets', bucket: data, count: seed });
  const dir = mkdtempSync(join(tmpdir(), 'planning-it-'));
  writeFileSync(
    join(dir, 'spec.json'),
    JSON.stringify([
      { analysis_name: 'Unit Yield', analysis_version: 'v1', analysis_parameters: { isi_violations: 0.5 } },
    ]),
  );
  const commit: { value: string | undefined } = { value: undefined };
  const warnings: string[] = [];
  const config = { ...baseConfig, ANALYSIS_BUCKET: `${results}/unit-yield` };
  return {
    assetsDb,
    analysisDb,
    data,
    results,
    dir,
    commit,
    warnings,
    deps: {
      assets: assetsDb.collection('data_assets'),
      records: analysisDb.collection('analysis_records'),
      s3,
      store: createPlanStore(analysisDb),
      registry,
      libraries: async () => ({ zod: '4.6.7' }),
      codeCommit: async () => commit.value,
      log: { info: () => undefined, warn: (message) => warnings.push(message) },
    },
    request: (...args) =>
      buildDispatchRequest(
        Object.fromEntries(
          [['analysis_spec', join(dir, 'spec.json')], ...pairs(args)].map(([key, value]) => [key, value]),
        ),
        config,
      ),
    async cleanup() {
      await assetsDb.dropDatabase();
      await analysisDb.dropDatabase();
      await removeBucket(data);
      await removeBucket(results);
    },
  };
}

/** `['--query', '{}', '--force']` as commander would hand it over. */
function pairs(args: string[]): Array<[string, unknown]> {
  const result: Array<[string, unknown]> = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i]!.replace(/^--/, '');
    const next = args[i + 1];
    if (next === undefined || next.startsWith('--')) result.push([name, true]);
    else result.push([name, args[++i]]);
  }
  return result;
}

async function removeBucket(bucket: string): Promise<void> {
  for (;;) {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (page.Contents ?? []).map((item) => ({ Key: item.Key! }));
    if (keys.length === 0) break;
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
  }
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
}

async function withFixture(body: (f: Fixture) => Promise<void>, seed?: number): Promise<void> {
  const f = await fixture(seed);
  try {
    await body(f);
  } finally {
    await f.cleanup();
  }
}

const preview = (f: Fixture, request: DispatchRequest) =>
  planDispatch(f.deps, request, 'preview', { store: false });
const behavior741213 = '{"name": {"$regex": "^behavior_741213.*processed"}}';

before(async () => {
  mongo = await new MongoClient(baseConfig.MONGODB_URI).connect();
  s3 = new S3Client({
    region: baseConfig.AWS_REGION,
    endpoint: baseConfig.AWS_ENDPOINT_URL_S3,
    forcePathStyle: !!baseConfig.AWS_ENDPOINT_URL_S3,
  });
});

after(async () => {
  await mongo?.close();
  s3?.destroy();
});

describe('planning against the local stack', () => {
  test('selects by query: the original example, one task per asset without file discovery', () =>
    withFixture(async (f) => {
      const { summary, tasks } = await preview(
        f,
        f.request(
          '--query',
          behavior741213,
          '--file_extension',
          '',
          '--split_files',
          '1',
          '--num_parallel_workers',
          '50',
        ),
      );
      assert.equal(summary.assets, 6);
      assert.equal(summary.tasks_total, 6);
      assert.equal(summary.tasks_new, 6);
      assert.equal(summary.jobs, 6);
      assert.ok(tasks.every(({ task }) => task.input.asset_name[0]!.startsWith('behavior_741213_')));
      assert.ok(tasks.every(({ task }) => task.location === `s3://${f.results}/unit-yield/${task.hash}`));
      assert.deepEqual(tasks[0]?.task.libraries, { zod: '4.6.7' });
    }));

  test('selects by CSV: ObjectId and string ids, ids that match nothing are warned about', () =>
    withFixture(async (f) => {
      const assets = f.deps.assets;
      const named = await assets.find({}, { projection: { _id: 1 }, limit: 2, sort: { _id: 1 } }).toArray();
      const objectId = new ObjectId();
      await assets.insertOne({ _id: objectId, name: 'oid_asset', location: `s3://${f.data}/oid_asset` });
      const csv = join(f.dir, 'ids.csv');
      writeFileSync(
        csv,
        ['asset_id', ...named.map((doc) => String(doc._id)), objectId.toHexString(), 'no-such-id'].join('\n'),
      );
      const { summary, tasks } = await preview(f, f.request('--use_data_assets', '1', '--asset_csv', csv));
      assert.equal(summary.assets, 3);
      assert.deepEqual(
        tasks.map(({ task }) => task.input.docdb_record_id[0]).sort(),
        [...named.map((doc) => String(doc._id)), objectId.toHexString()].sort(),
      );
      assert.match(
        summary.warnings.join('\n'),
        /1 of 4 ids in --asset_csv matched no asset by _id: no-such-id/,
      );

      writeFileSync(csv, 'asset_id\nnope-1\nnope-2\n');
      await assert.rejects(
        preview(f, f.request('--use_data_assets', '1', '--asset_csv', csv)),
        /none of the 2 ids/,
      );

      const byName = join(f.dir, 'names.csv');
      writeFileSync(byName, 'asset_id\noid_asset\n');
      const viaName = await preview(
        f,
        f.request('--use_data_assets', '1', '--asset_csv', byName, '--asset_id_field', 'name'),
      );
      assert.equal(viaName.summary.assets, 1);
    }));

  test('assets without a usable location are skipped and counted', () =>
    withFixture(async (f) => {
      await f.deps.assets.insertMany([
        { _id: 'x1' as never, name: 'no_location' },
        { _id: 'x2' as never, name: 'http_location', location: 'https://example.org/x' },
        { _id: 'x3' as never, name: 'bucket_only', location: `s3://${f.data}` },
      ]);
      const { summary } = await preview(f, f.request('--query', '{}'));
      assert.equal(summary.assets, 36);
      assert.equal(summary.assets_without_location, 3);
      assert.match(summary.warnings.join('\n'), /skipped asset no_location \(x1\): location \(missing\)/);
      await assert.rejects(
        preview(f, f.request('--query', '{"_id": {"$in": ["x1", "x2"]}}')),
        /none of the 2 selected assets has a usable location/,
      );
      await assert.rejects(
        preview(f, f.request('--query', '{"name": "nothing"}')),
        /--query matched no assets in plan_assets_/,
      );
    }));

  test('walking a bucket finds exactly what listing each asset prefix on its own finds', () =>
    withFixture(async (f) => {
      // A layout with everything the walk must get right: neighbours that share pages, long
      // stretches of keys no selected asset owns (more than a page), names that are string
      // prefixes of others (w/a_1 and w/a_10), folder markers, deep keys, non-ASCII names whose
      // UTF-8 order differs from JavaScript's, an asset with no files and one inside another.
      const keys: string[] = [];
      for (let i = 0; i < 300; i++) {
        const asset = `w/a_${i}`;
        keys.push(`${asset}/`, `${asset}/x.dat`, `${asset}/sub/y.dat`, `${asset}/notes.txt`);
      }
      for (let i = 0; i < 1200; i++) keys.push(`w/gap_${String(i).padStart(4, '0')}.dat`);
      keys.push('w/\uff5e-bmp/z.dat', 'w/\u{1f600}-astral/z.dat', 'w/nest/outer.dat', 'w/nest/in/inner.dat');
      await mapWithConcurrency(keys, 64, (Key) =>
        s3.send(new PutObjectCommand({ Bucket: f.data, Key, Body: Key.endsWith('/') ? '' : 'x' })),
      );
      const selected = [
        ...Array.from({ length: 300 }, (_, i) => i)
          .filter((i) => i < 120 || i % 37 === 0)
          .map((i) => `s3://${f.data}/w/a_${i}`),
        `s3://${f.data}/w/a_1/`, // the same asset written with a trailing slash
        `s3://${f.data}/w/\uff5e-bmp`,
        `s3://${f.data}/w/\u{1f600}-astral`,
        `s3://${f.data}/w/no-such-asset`,
        `s3://${f.data}/w/gap_0999.dat`, // a file's own key is not a folder
      ];
      const oracle = async (location: string): Promise<string[]> => {
        const prefix = `${location.slice(`s3://${f.data}/`.length).replace(/\/+$/, '')}/`;
        const urls: string[] = [];
        let token: string | undefined;
        do {
          const page = await s3.send(
            new ListObjectsV2Command({ Bucket: f.data, Prefix: prefix, ContinuationToken: token }),
          );
          for (const { Key } of page.Contents ?? [])
            if (Key && !Key.endsWith('/') && Key.endsWith('.dat')) urls.push(`s3://${f.data}/${Key}`);
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
        return urls.sort();
      };
      let listed = 0;
      const walked = await discoverFiles(s3, selected, '.dat', 4, () => listed++);
      for (const location of selected)
        assert.deepEqual(walked.get(location), await oracle(location), location);
      assert.equal(walked.get(`s3://${f.data}/w/a_1`)?.length, 2, "w/a_1 holds two .dat files, not w/a_10's");
      assert.equal(walked.get(`s3://${f.data}/w/\u{1f600}-astral`)?.length, 1);
      assert.equal(listed, selected.length - 1, 'progress once per distinct prefix');

      const nested = [`s3://${f.data}/w/nest`, `s3://${f.data}/w/nest/in`];
      const both = await discoverFiles(s3, nested, '.dat');
      for (const location of nested) assert.deepEqual(both.get(location), await oracle(location), location);
      assert.equal(both.get(nested[0]!)?.length, 2, "the outer asset also holds the inner one's file");
    }));

  test('a folder-shaped input is one input, and its chunks are jumped over, not listed', () =>
    withFixture(async (f) => {
      const keys = [
        ...Array.from({ length: 2_500 }, (_, i) => `z/s.zarr/0/${String(i).padStart(4, '0')}`),
        'z/s.zarr/1.zarr/.zattrs',
        'z/t.zarr/.zattrs',
        'z/u.csv',
      ];
      await mapWithConcurrency(keys, 64, (Key) =>
        s3.send(new PutObjectCommand({ Bucket: f.data, Key, Body: 'x' })),
      );
      let listings = 0;
      s3.middlewareStack.add(
        (next) => (args) => {
          listings++;
          return next(args);
        },
        { step: 'initialize', name: 'countListings' },
      );
      const found = await discoverFiles(s3, [`s3://${f.data}/z`], '.zarr').finally(() =>
        s3.middlewareStack.remove('countListings'),
      );
      assert.deepEqual(found.get(`s3://${f.data}/z`), [`s3://${f.data}/z/s.zarr`, `s3://${f.data}/z/t.zarr`]);
      assert.ok(listings <= 2, `${listings} listings for 2,503 keys`);
    }));

  test('discovers files across many prefixes and past one listing page', () =>
    withFixture(async (f) => {
      const big = `s3://${f.data}/big_asset`;
      await f.deps.assets.insertOne({ _id: 'big' as never, name: 'big_asset', location: big });
      const keys = Array.from(
        { length: 1050 },
        (_, i) => `big_asset/deep/${String(i).padStart(4, '0')}/part.dat`,
      );
      await mapWithConcurrency(keys, 64, (Key) =>
        s3.send(new PutObjectCommand({ Bucket: f.data, Key, Body: 'x' })),
      );
      await s3.send(new PutObjectCommand({ Bucket: f.data, Key: 'big_asset_sibling/part.dat', Body: 'x' }));

      const direct = await discoverFiles(s3, [big], '.dat');
      assert.equal(direct.get(big)?.length, 1050, 'pagination followed and the sibling prefix excluded');
      assert.deepEqual(direct.get(big)?.slice(0, 2), [
        `${big}/deep/0000/part.dat`,
        `${big}/deep/0001/part.dat`,
      ]);

      const split = await preview(f, f.request('--query', '{"_id": "big"}', '--file_extension', '.dat'));
      assert.equal(split.summary.tasks_total, 1050);
      const whole = await preview(
        f,
        f.request('--query', '{"_id": "big"}', '--file_extension', '.dat', '--split_files', '0'),
      );
      assert.equal(whole.summary.tasks_total, 1);
      assert.equal(whole.tasks[0]?.task.input.file_location.length, 1050);

      const json = await preview(
        f,
        f.request('--query', '{}', '--file_extension', '.json', '--split_files', '0'),
      );
      assert.equal(json.summary.tasks_total, 36);
      assert.equal(json.summary.assets_without_files, 1);
      assert.ok(json.tasks.every(({ task }) => task.input.file_location.length === 2));
      const csv = await preview(f, f.request('--query', '{}', '--file_extension', 'units.csv'));
      assert.equal(csv.summary.tasks_total, 36);
      assert.match(csv.summary.warnings.join('\n'), /big_asset has no file ending with "units.csv"/);
    }));

  test('an extension that matches nothing anywhere is an error; a missing data bucket names it', () =>
    withFixture(async (f) => {
      await assert.rejects(
        preview(f, f.request('--query', '{}', '--file_extension', '.xyz')),
        (err: Error) => {
          return (
            err instanceof InputError &&
            /no file ending with "\.xyz" under any of the 36 selected assets/.test(err.message)
          );
        },
      );
      await f.deps.assets.insertOne({
        _id: 'gone' as never,
        name: 'gone',
        location: 's3://no-such-bucket-here/x',
      });
      await assert.rejects(
        preview(f, f.request('--query', '{"_id": "gone"}', '--file_extension', '.csv')),
        /bucket no-such-bucket-here .* does not exist/,
      );
    }));

  test('group_by puts all assets sharing the values in one task', () =>
    withFixture(async (f) => {
      const { tasks } = await preview(f, f.request('--query', '{}', '--group_by', 'subject.subject_id'));
      assert.deepEqual(
        tasks.map(({ task }) => [task.group, task.input.s3_location.length]),
        [
          [{ 'subject.subject_id': '702345' }, 12],
          [{ 'subject.subject_id': '741213' }, 12],
          [{ 'subject.subject_id': '741214' }, 12],
        ],
      );
      const two = await preview(
        f,
        f.request(
          '--query',
          '{}',
          '--group_by',
          'data_description.project_name,subject.subject_id',
          '--file_extension',
          '.csv',
        ),
      );
      assert.equal(two.tasks.length, 3);
      assert.equal(two.tasks[0]?.task.input.file_location.length, 12);
    }));

  test('existing records mark tasks done or changed_code, with one read; --force reruns them', () =>
    withFixture(async (f) => {
      const request = f.request('--query', behavior741213);
      const first = await preview(f, request);
      const [a, b, c] = first.tasks.map(({ task }) => task.hash);
      await f.analysisDb.collection('analysis_records').insertMany([
        { _id: a as never, analysis_name: 'Unit Yield', code: { commit: 'c1' } },
        { _id: b as never, analysis_name: 'Unit Yield', code: { commit: 'c0' } },
        { _id: c as never, analysis_name: 'Unit Yield', code: {} },
        { _id: 'other' as never, analysis_name: 'Something Else', code: { commit: 'c0' } },
      ]);
      f.commit.value = 'c1';
      const second = await preview(f, request);
      assert.deepEqual(
        second.tasks.map(({ status }) => status),
        ['done', 'changed_code', 'done', 'new', 'new', 'new'],
      );
      assert.deepEqual(
        [
          second.summary.tasks_new,
          second.summary.tasks_done,
          second.summary.tasks_changed_code,
          second.summary.tasks_to_run,
        ],
        [3, 2, 1, 3],
      );
      assert.match(second.summary.warnings.join('\n'), /1 tasks have a record made by different code/);
      const forced = await preview(f, f.request('--query', behavior741213, '--force'));
      assert.equal(forced.summary.tasks_to_run, 6);
    }));

  test('the store saves jobs in pages and loads them back; a rerun replaces; delete removes', () =>
    withFixture(async (f) => {
      const store = f.deps.store;
      // Values FerretDB cannot hold as BSON: nested arrays, and dotted keys (the group values).
      const params = join(f.dir, 'params.json');
      writeFileSync(
        params,
        JSON.stringify({
          fixed_parameters: {
            windows: [
              [0, 1],
              [1, 2],
            ],
            isi_violations: 1,
          },
        }),
      );
      const pages = f.analysisDb.collection(PLAN_COLLECTION);
      const request = f.request('--query', '{}', '--file_extension', '.json', '--tasks_per_job', '3');
      const { summary, tasks } = await planDispatch(f.deps, request, 'plan-a', { store: true });
      assert.equal(summary.tasks_to_run, 72);
      assert.equal(summary.jobs, 24);
      assert.equal(summary.jobs_per_page, 66);
      assert.equal(await pages.countDocuments({ plan_id: 'plan-a' }), 1);

      const loaded = [];
      for (let index = 0; index < summary.jobs; index++) {
        loaded.push(...(await store.loadJob('plan-a', index, summary.jobs_per_page)));
      }
      assert.deepEqual(
        loaded,
        tasks.map(({ task }) => task),
      );
      const iterated = [];
      for await (const job of store.iterateJobs('plan-a')) iterated.push(job);
      assert.deepEqual(
        iterated.map((job) => job.index),
        Array.from({ length: 24 }, (_, i) => i),
      );
      assert.deepEqual(
        iterated.flatMap((job) => job.tasks),
        loaded,
      );

      const many = f.request('--query', '{}', '--file_extension', '.json');
      const big = await planDispatch(
        f.deps,
        {
          ...many,
          distributed_parameters: [{ isi_violations: 0.1 }, { isi_violations: 0.2 }, { isi_violations: 0.3 }],
        },
        'plan-a',
        { store: true },
      );
      assert.equal(big.summary.jobs, 216);
      assert.equal(big.summary.jobs_per_page, 200);
      assert.equal(await pages.countDocuments({ plan_id: 'plan-a' }), 2, 'the rerun replaced the first plan');
      assert.deepEqual(await f.deps.store.loadJob('plan-a', 215, 200), [big.tasks[215]?.task]);

      const grouped = f.request(
        '--query',
        '{}',
        '--group_by',
        'subject.subject_id',
        '--analysis_parameters',
        params,
      );
      const groupedPlan = await planDispatch(f.deps, grouped, 'plan-b', { store: true });
      assert.deepEqual(await store.loadJob('plan-b', 0, groupedPlan.summary.jobs_per_page), [
        groupedPlan.tasks[0]?.task,
      ]);

      await store.delete('plan-a');
      await store.delete('plan-b');
      assert.equal(await pages.countDocuments({}), 0);
      await assert.rejects(store.loadJob('plan-a', 0, 200), /not found/);
    }));

  test('bad input writes nothing to the store or the output bucket', () =>
    withFixture(async (f) => {
      const pages = f.analysisDb.collection(PLAN_COLLECTION);
      const spec = (entry: Record<string, unknown>) => {
        const path = join(f.dir, `spec-${randomBytes(3).toString('hex')}.json`);
        writeFileSync(
          path,
          JSON.stringify([{ analysis_name: 'Unit Yield', analysis_version: 'v1', ...entry }]),
        );
        return path;
      };
      const cases: Array<[DispatchRequest, RegExp]> = [
        [
          f.request('--query', '{}', '--analysis_spec', spec({ analysis_name: 'Unit Yeild' })),
          /"Unit Yeild" is not registered/,
        ],
        [
          f.request(
            '--query',
            '{}',
            '--analysis_spec',
            spec({ analysis_parameters: { isi_violations: -1 } }),
          ),
          /isi_violations:/,
        ],
        [
          f.request(
            '--query',
            '{}',
            '--analysis_spec',
            spec({ analysis_parameters: { isi_violations: 1 }, s3_output_bucket: 'no-such-output-bucket' }),
          ),
          /output bucket no-such-output-bucket .* does not exist/,
        ],
        [f.request('--query', '{"name": "none"}'), /matched no assets/],
        [f.request('--query', '{}', '--file_extension', '.xyz'), /no file ending/],
      ];
      for (const [request, message] of cases) {
        await assert.rejects(planDispatch(f.deps, request, 'bad', { store: true }), (err: Error) => {
          return err instanceof InputError && message.test(err.message);
        });
      }
      assert.equal(await pages.countDocuments({}), 0);
      const objects = await s3.send(new ListObjectsV2Command({ Bucket: f.results }));
      assert.equal(objects.KeyCount ?? 0, 0);
    }));

  test('timing: plan N demo assets with file discovery (printed, not asserted)', () =>
    withFixture(async (f) => {
      const count = Number(process.env.PLANNING_BENCH_ASSETS ?? 500);
      const seeding = Date.now();
      await seedDemo({ db: f.assetsDb, s3, assetsCollection: 'data_assets', bucket: f.data, count });
      const seeded = Date.now();
      const { summary } = await planDispatch(
        f.deps,
        f.request('--query', '{}', '--file_extension', '.csv', '--tasks_per_job', '10'),
        'bench',
        { store: true },
      );
      const planned = Date.now();
      assert.equal(summary.tasks_total, count);
      console.log(
        `# planning ${count} demo assets with --file_extension .csv: ${((planned - seeded) / 1000).toFixed(1)} s ` +
          `(${summary.tasks_total} tasks, ${summary.jobs} jobs stored; seeding took ${((seeded - seeding) / 1000).toFixed(1)} s)`,
      );
    }, 0));
});
