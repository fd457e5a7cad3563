import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import type { Db } from 'mongodb';
import { loadRegistry } from '../../src/analysis/registry';
import { planDispatch, type PlanDeps } from '../../src/planning/plan-dispatch';
import { buildDispatchRequest } from '../../src/request/options';
import { createPlanStore, PLAN_COLLECTION } from '../../src/storage/plan-store';
import type { PlanSummary, StoredRecord } from '../../src/types';
import { FIXTURE_ANALYSES, ROOT, testStack, type TestStack } from '../helpers/stack';

/**
 * Plans of a selection several pages long, each compared with a fixture of the same plans written
 * by a planner that held each plan whole (test/fixtures/plan-pages.json): the same summary, and
 * page for page the same stored text. The output bucket has a fixed name, since it is part of
 * every task's hash; it stays empty, and stays.
 * `PLAN_PAGES_WRITE=1` writes the fixture from the planner at hand instead of comparing.
 */
const FIXTURE = join(ROOT, 'test', 'fixtures', 'plan-pages.json');
const OUTPUT_BUCKET = 'plan-pages-fixture';
const ASSETS = 900;

interface StoredPlan {
  summary: PlanSummary;
  /** sha256 of each page's stored jobs, in page order. */
  pages: string[];
}

describe('plan pages', () => {
  let stack: TestStack;
  let db: Db;
  let deps: PlanDeps;
  let dir: string;
  const plans: Record<string, StoredPlan> = {};

  before(async () => {
    stack = await testStack('plan-pages');
    await stack.s3.send(new CreateBucketCommand({ Bucket: OUTPUT_BUCKET })).catch((err: Error) => {
      if (err.name !== 'BucketAlreadyOwnedByYou' && err.name !== 'BucketAlreadyExists') throw err;
    });
    const assets = stack.mongo.db(stack.config.ASSETS_DATABASE).collection('data_assets');
    // Inserted out of id order, some without a location: the plan sorts and skips them itself.
    const docs = Array.from({ length: ASSETS }, (_, n) => {
      const id = `asset_${String((n * 389) % ASSETS).padStart(4, '0')}`;
      return {
        _id: id as never,
        name: `name of ${id}`,
        location: n % 97 === 5 ? 'nowhere' : `s3://data-bucket/assets/${id}`,
        subject: { subject_id: String(600000 + (n % 300)) },
      };
    });
    await assets.insertMany(docs);
    db = stack.mongo.db(stack.config.DOCDB_DATABASE);
    deps = {
      assets,
      records: db.collection<StoredRecord>('analysis_records'),
      s3: stack.s3,
      store: createPlanStore(db),
      registry: await loadRegistry(FIXTURE_ANALYSES),
      libraries: async () => ({ zod: '4.0.0' }),
      codeCommit: async () => 'c0ffee',
      log: () => undefined,
    };
    dir = mkdtempSync(join(tmpdir(), 'plan-pages-'));
  });

  after(async () => {
    if (process.env.PLAN_PAGES_WRITE) writeFileSync(FIXTURE, `${JSON.stringify(plans, null, 2)}\n`);
    await stack?.close();
  });

  function request(name: string, flags: Record<string, string>, parameters?: object) {
    const spec = join(dir, `spec-${name}.json`);
    writeFileSync(
      spec,
      JSON.stringify([
        { analysis_name: 'Noop', analysis_version: 'v1', s3_output_bucket: OUTPUT_BUCKET },
        // The same analysis twice: its tasks are planned once.
        { analysis_name: 'Noop', analysis_version: 'v1', s3_output_bucket: OUTPUT_BUCKET },
      ]),
    );
    const options: Record<string, string> = { query: '{}', analysis_spec: spec, ...flags };
    if (parameters) {
      options.analysis_parameters = join(dir, `parameters-${name}.json`);
      writeFileSync(options.analysis_parameters, JSON.stringify(parameters));
    }
    return buildDispatchRequest(options, stack.config);
  }

  async function stored(name: string, flags: Record<string, string>, parameters?: object) {
    const { summary } = await planDispatch(deps, request(name, flags, parameters), name, {
      store: true,
      listTasks: false,
    });
    const docs = await db
      .collection<{ page: number; jobs: string }>(PLAN_COLLECTION)
      .find({ plan_id: name }, { sort: { page: 1 } })
      .toArray();
    assert.deepEqual(
      docs.map((doc) => doc.page),
      docs.map((_, index) => index),
    );
    const plan = { summary, pages: docs.map((doc) => createHash('sha256').update(doc.jobs).digest('hex')) };
    assert.ok(plan.pages.length > 1, `${name}: a plan of several pages, not ${JSON.stringify(summary)}`);
    plans[name] = plan;
    if (!process.env.PLAN_PAGES_WRITE) {
      const expected = (JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, StoredPlan>)[name];
      assert.deepEqual(plan, expected);
    }
    return plan;
  }

  const parameters = {
    distributed_parameters: [{ window: 1 }, { window: 2 }, { window: 1 }],
  };

  test('new tasks, duplicates left out, in jobs of 7', async () => {
    await stored('plain', { tasks_per_job: '7' }, parameters);
  });

  test('some done, some by other code, capped, forced', async () => {
    const { tasks } = await planDispatch(deps, request('preview', {}, parameters), 'preview', {
      store: false,
    });
    const records = tasks
      .filter((_, index) => index % 5 === 0)
      .map(({ task }, index) => ({
        _id: task.hash,
        analysis_name: task.analysis.analysis_name,
        code: { commit: index % 3 === 0 ? 'other' : 'c0ffee' },
      }));
    await deps.records.insertMany(records as never[]);
    await stored('done', { tasks_per_job: '7', max_number_of_tasks_dispatched: '1000' }, parameters);
    await stored('forced', { tasks_per_job: '3', force: '1' }, parameters);
  });

  test('groups, one task each, a job at a time', async () => {
    await stored('grouped', { tasks_per_job: '1', group_by: 'subject.subject_id' }, parameters);
  });

  test('tasks too large for full pages are laid out in smaller ones', async () => {
    const plan = await stored(
      'large',
      { tasks_per_job: '10' },
      { fixed_parameters: { notes: 'x'.repeat(40_000) }, distributed_parameters: [{ window: 1 }] },
    );
    assert.ok(plan.summary.jobs_per_page < 20);
  });
});
