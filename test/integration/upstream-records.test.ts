import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MongoClient, type CommandStartedEvent } from 'mongodb';
import { loadRegistry } from '../../src/analysis/registry';
import { planDispatch } from '../../src/planning/plan-dispatch';
import { buildDispatchRequest } from '../../src/request/options';
import { createPlanStore } from '../../src/storage/plan-store';
import type { AnalysisRecord, StoredRecord } from '../../src/types';
import { aindErrors } from '../helpers/aind';
import { runCli } from '../helpers/cli';
import { seedAssets, writeSpec } from '../helpers/data';
import { listKeys, ROOT, testStack, type TestStack } from '../helpers/stack';
import { wrapperQuery, wrapperRecords, type WrapperJob } from '../helpers/wrapper-records';

/**
 * Cutting over from the institute's current wrapper: its records (made here by its own
 * functions) count as done for a spec naming its code, and the wrapper template's own example,
 * ported by one import, runs the rest through a real dispatch.
 */
describe('records of the current wrapper (upstream_code)', () => {
  let stack: TestStack;
  let dir: string;
  let path: string | undefined;
  const query = '{"name": {"$regex": "^uf_"}}';
  const capsule = { url: 'https://codeocean.allenneuraldynamics.org/capsule/4544861', version: '1.0' };
  const parameters = { analysis_tag: 'V1', isi_violations_cutoff: 0.8 };
  const spec = (extra: Record<string, unknown> = {}) => ({
    analysis_name: 'Unit Filtering',
    analysis_version: 'v1.0.0',
    analysis_parameters: parameters,
    upstream_code: capsule,
    ...extra,
  });
  const records = () =>
    stack.mongo.db(stack.config.DOCDB_DATABASE).collection<StoredRecord>(stack.config.DOCDB_COLLECTION);
  const location = (name: string) => `s3://${stack.bucket}/data/${name}`;
  /** A job of the wrapper over one asset, its parameters written in another order than the spec's. */
  const job = (
    name: string,
    overrides: Partial<WrapperJob> = {},
    code: Record<string, unknown> = {},
  ): WrapperJob => ({
    ...capsule,
    name: 'Unit Filtering capsule',
    bucket: `${stack.bucket}/wrapper`,
    dispatch: {
      s3_location: [location(name)],
      asset_name: [name],
      docdb_record_id: [name],
      file_location: null,
      analysis_code: {
        object_type: 'Code',
        url: capsule.url,
        version: capsule.version,
        parameters: {
          isi_violations_cutoff: 0.8,
          analysis_name: 'Unit Filtering',
          analysis_tag: 'V1',
          ...code,
        },
      },
    },
    output_parameters: { isi_violations: ['from the wrapper'] },
    ...overrides,
  });
  let matching: string;

  before(async () => {
    stack = await testStack('upstream');
    // The workers' python3 is the project's venv, which has pydantic and the institute's packages.
    path = process.env.PATH;
    process.env.PATH = `${join(ROOT, '.dev', 'venv', 'bin')}:${path ?? ''}`;
    await stack.startWorker();
    await seedAssets(stack, { count: 3, namePrefix: 'uf', files: ['data/units.csv'] });
    dir = mkdtempSync(join(tmpdir(), 'upstream-'));
    const seeded = wrapperRecords([
      job('uf_0000'),
      // Another version of the capsule, other parameters, another capsule: none of them counts.
      job('uf_0001', { version: '2.0' }),
      job('uf_0002', {}, { isi_violations_cutoff: 0.5 }),
      job('uf_0002', { url: 'https://codeocean.allenneuraldynamics.org/capsule/1' }),
      // A per-file job of the capsule: its parameters hold the file.
      job('uf_0001', {
        dispatch: {
          ...job('uf_0001').dispatch,
          file_location: [`${location('uf_0001')}/data/units.csv`],
        },
      }),
    ]);
    assert.deepEqual(
      aindErrors('Metadata', seeded),
      seeded.map(() => []),
      'the wrapper writes valid Metadata',
    );
    await records().insertMany(seeded as never[]);
    matching = seeded[0]!._id;
  });
  after(async () => {
    process.env.PATH = path;
    await stack?.close();
  });

  const cli = (command: string, specs: unknown[], extra: string[] = []) =>
    runCli(
      [command, '--query', query, '--analysis_spec', writeSpec(dir, specs, `${command}.json`), ...extra],
      stack.env,
    );

  test('plan counts the wrapper record of the same code, inputs and parameters as done, and says whose', async () => {
    const shown = await cli('plan', [spec()]);
    assert.equal(shown.code, 0, shown.stderr + shown.stdout);
    assert.match(shown.stdout, /3 tasks from 3 assets: 2 new, 1 already done, 0 done by different code/);
    assert.match(shown.stdout, /1 of the done tasks have a record by the wrapper code their spec names/);
    assert.match(shown.stdout, /2 to run in 2 jobs/);

    const planned = await cli('plan', [spec()], ['--json']);
    assert.equal(planned.code, 0, planned.stderr);
    const plan = JSON.parse(planned.stdout) as {
      summary: { tasks_done: number; tasks_done_upstream: number; tasks_to_run: number };
      tasks: Array<{
        status: string;
        will_run: boolean;
        upstream_record?: string;
        task: { input: { asset_name: string[] } };
      }>;
    };
    assert.equal(plan.summary.tasks_done_upstream, 1);
    const done = plan.tasks.filter((entry) => !entry.will_run);
    assert.deepEqual(
      done.map((entry) => [entry.task.input.asset_name[0], entry.status, entry.upstream_record]),
      [['uf_0000', 'done', matching]],
    );

    // The institute's own lookup finds the same records: the one planned done for uf_0000, none
    // for the others. (Its filter compares parameters in their stored key order; planning does not.)
    const theirs = async (name: string) => {
      const filter = wrapperQuery({
        code_url: capsule.url,
        code_version: capsule.version,
        input_data_locations: [location(name)],
        parameters: { isi_violations_cutoff: 0.8, analysis_name: 'Unit Filtering', analysis_tag: 'V1' },
      });
      return (
        await records()
          .find(filter as never)
          .toArray()
      ).map((record) => record._id);
    };
    assert.deepEqual(await theirs('uf_0000'), [matching]);
    assert.deepEqual(await theirs('uf_0001'), []);
    assert.deepEqual(await theirs('uf_0002'), []);

    // Per-file tasks: the wrapper kept the file among its parameters.
    const files = await cli('plan', [spec()], ['--file_extension', '.csv', '--json']);
    assert.equal(files.code, 0, files.stderr);
    const perFile = JSON.parse(files.stdout) as typeof plan;
    assert.deepEqual(
      perFile.tasks.filter((entry) => entry.upstream_record).map((entry) => entry.task.input.asset_name[0]),
      ['uf_0001'],
    );

    // Without upstream_code, the wrapper's records are not the spec's.
    const without = JSON.parse(
      (await cli('plan', [spec({ upstream_code: undefined })], ['--json'])).stdout,
    ) as typeof plan;
    assert.equal(without.summary.tasks_to_run, 3);
  });

  test("planning reads the records once, the wrapper's with the analysis's own, and explains beside it", async () => {
    const monitored = await new MongoClient(stack.config.MONGODB_URI, { monitorCommands: true }).connect();
    const reads: CommandStartedEvent[] = [];
    monitored.on('commandStarted', (event) => {
      if (event.commandName === 'find' && event.command.find === stack.config.DOCDB_COLLECTION)
        reads.push(event);
    });
    try {
      const analysisDb = monitored.db(stack.config.DOCDB_DATABASE);
      const request = buildDispatchRequest(
        { query, analysis_spec: writeSpec(dir, [spec()], 'in-process.json') },
        stack.config,
      );
      const { summary } = await planDispatch(
        {
          assets: stack.mongo.db(stack.config.ASSETS_DATABASE).collection(stack.config.ASSETS_COLLECTION),
          records: analysisDb.collection(stack.config.DOCDB_COLLECTION),
          s3: stack.s3,
          store: createPlanStore(analysisDb),
          registry: await loadRegistry(join(ROOT, 'analyses')),
          libraries: async () => ({}),
          codeCommit: async () => undefined,
          log: { info: () => undefined, warn: () => undefined },
        },
        request,
        'plan-preview',
        { store: false },
      );
      assert.equal(summary.tasks_done_upstream, 1);
      assert.equal(reads.length, 1, 'one streamed read of the records');
    } finally {
      await monitored.close();
    }
    const explained = await cli('plan', [spec()], ['--explain']);
    assert.equal(explained.code, 0, explained.stderr + explained.stdout);
    assert.match(explained.stdout, /explain: 2 tasks/);
  });

  test('dispatch skips it and runs the ported template example on the rest; results list both', async () => {
    const ran = await cli('dispatch', [spec()], ['--wait']);
    assert.equal(ran.code, 0, ran.stderr + ran.stdout);
    const own = (await records().find({ analysis_name: 'Unit Filtering' }).toArray()) as AnalysisRecord[];
    assert.deepEqual(own.map((record) => record.input.asset_name[0]).sort(), ['uf_0001', 'uf_0002']);
    assert.deepEqual(
      aindErrors('Metadata', own),
      own.map(() => []),
    );
    for (const record of own) {
      const process = record.processing.data_processes[0]!;
      assert.deepEqual(process.output_parameters, {
        isi_violations: ['example_violation_1', 'example_violation_2'],
        additional_info: 'This is an example of additional information about the analysis.',
      });
      assert.equal(process.code.parameters?.analysis_name, 'Unit Filtering');
      assert.match(String(process.code.run_script), /unit_filtering\.py$/);
    }

    const listed = await runCli(['results', '--analysis_name', 'Unit Filtering', '--csv'], stack.env);
    assert.equal(listed.code, 0, listed.stderr);
    const rows = listed.stdout.trim().split('\n').slice(1);
    // The project's two records and the wrapper's five, all named "Unit Filtering" in their parameters.
    assert.equal(rows.length, 7, listed.stdout);
    assert.ok(
      rows.some((row) => row.startsWith(`${matching},Unit Filtering,1.0,`)),
      listed.stdout,
    );
    const table = await runCli(
      ['results', '--analysis_name', 'Unit Filtering', '--analysis_version', '2.0'],
      stack.env,
    );
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /Unit Filtering \(wrapper\)/);
    assert.equal(table.stdout.match(/\(wrapper\)/g)?.length, 1, table.stdout);
  });

  test('--force reruns the task the wrapper did', async () => {
    const forced = await cli('dispatch', [spec()], ['--wait', '--force', '1']);
    assert.equal(forced.code, 0, forced.stderr + forced.stdout);
    const own = (await records().find({ analysis_name: 'Unit Filtering' }).toArray()) as AnalysisRecord[];
    assert.deepEqual(own.map((record) => record.input.asset_name[0]).sort(), [
      'uf_0000',
      'uf_0001',
      'uf_0002',
    ]);
    // The wrapper's record stays as it was.
    assert.ok(await records().findOne({ _id: matching }));
  });

  for (const [field, upstream] of [
    ['version', { url: capsule.url }],
    ['url', { version: '1.0' }],
  ] as const) {
    test(`upstream_code without its ${field}: exit 2, named, nothing written`, async () => {
      const before = await listKeys(stack.s3, stack.bucket);
      const count = await records().countDocuments();
      for (const command of ['plan', 'dispatch']) {
        const refused = await cli(command, [spec({ upstream_code: upstream })]);
        assert.equal(refused.code, 2, refused.stderr + refused.stdout);
        assert.match(
          refused.stderr,
          new RegExp(`entry 0 \\(Unit Filtering\\): upstream_code\\.${field}: is required`),
        );
      }
      assert.equal(await records().countDocuments(), count);
      assert.deepEqual(await listKeys(stack.s3, stack.bucket), before);
    });
  }
});
