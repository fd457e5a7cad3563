import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { BSON } from 'mongodb';
import { runCli } from '../helpers/cli';
import { seedAssets, writeSpec } from '../helpers/data';
import { listKeys, ROOT, testStack, type TestStack } from '../helpers/stack';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'analyses');

/** Where a bad input is refused: by the CLI before anything starts, or by the dispatch's planning. */
type RefusedBy = 'cli' | 'planning';

describe('bad input', () => {
  let stack: TestStack;
  let dir: string;
  let spec: string;
  let objectsBefore: string[];

  before(async () => {
    stack = await testStack('badinput');
    stack.env.ANALYSIS_MODULES_DIR = FIXTURES;
    await stack.startWorker({ ANALYSIS_MODULES_DIR: FIXTURES });
    await seedAssets(stack, { count: 2 });
    dir = mkdtempSync(join(tmpdir(), 'bad-input-'));
    spec = writeSpec(dir, [{ analysis_name: 'Noop', analysis_version: '1' }]);
    objectsBefore = await listKeys(stack.s3, stack.bucket);
  });
  after(async () => stack?.close());

  /** Every document of every collection of the test's databases, by collection; empty ones left out. */
  async function databaseContents(): Promise<Record<string, string[]>> {
    const contents: Record<string, string[]> = {};
    for (const name of [stack.config.ASSETS_DATABASE, stack.config.DOCDB_DATABASE]) {
      const db = stack.mongo.db(name);
      for (const { name: collection } of await db.listCollections({}, { nameOnly: true }).toArray()) {
        const docs = await db.collection(collection).find().toArray();
        if (docs.length)
          contents[`${name}.${collection}`] = docs.map((doc) => BSON.EJSON.stringify(doc)).sort();
      }
    }
    return contents;
  }

  /** The workflows on the test's own task queue (dispatches and their jobs), as visibility lists them. */
  async function workflowsOnQueue(): Promise<Array<{ id: string; type: string; status: string }>> {
    const found = [];
    for await (const workflow of stack.client.workflow.list({
      query: `TaskQueue = "${stack.env.TEMPORAL_TASK_QUEUE}"`,
    }))
      found.push({ id: workflow.workflowId, type: workflow.type, status: workflow.status.name });
    return found;
  }

  /** The dispatches that planning refused: their workflows are the only ones the catalogue starts. */
  const refusedInPlanning: string[] = [];

  const query = '{"name": {"$regex": "^asset_"}}';
  const parameters = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  // `args` follow `dispatch` unless `command` gives the whole command line.
  const cases: Array<{
    name: string;
    args?: () => string[];
    command?: () => string[];
    message: RegExp;
    refusedBy?: RefusedBy;
  }> = [
    {
      name: 'broken JSON query',
      args: () => ['--query', '{"name": ', '--analysis_spec', spec],
      message: /--query.*(JSON|file)/i,
    },
    {
      name: '$where deep in the query',
      args: () => ['--query', '{"$and": [{"a": 1}, {"$where": "1"}]}', '--analysis_spec', spec],
      message: /\$where/,
    },
    {
      name: '$function in the query',
      args: () => ['--query', '{"x": {"$expr": {"$function": {}}}}', '--analysis_spec', spec],
      message: /\$function/,
    },
    {
      name: 'query file that does not exist',
      args: () => ['--query', 'no-such-query.json', '--analysis_spec', spec],
      message: /no-such-query\.json/,
    },
    {
      name: '--num_parallel_workers 0',
      args: () => ['--query', query, '--analysis_spec', spec, '--num_parallel_workers', '0'],
      message: /--num_parallel_workers/,
    },
    {
      name: '--num_parallel_workers -2',
      args: () => ['--query', query, '--analysis_spec', spec, '--num_parallel_workers', '-2'],
      message: /num_parallel_workers/,
    },
    {
      name: '--tasks_per_job 0',
      args: () => ['--query', query, '--analysis_spec', spec, '--tasks_per_job', '0'],
      message: /--tasks_per_job/,
    },
    {
      name: '--tasks_per_job above the most a job history holds',
      args: () => ['--query', query, '--analysis_spec', spec, '--tasks_per_job', '501'],
      message: /--tasks_per_job must be at most 500, got 501/,
    },
    {
      name: 'non-integer --tasks_per_job',
      args: () => ['--query', query, '--analysis_spec', spec, '--tasks_per_job', '1.5'],
      message: /--tasks_per_job/,
    },
    {
      name: 'unknown flag',
      args: () => ['--query', query, '--analysis_spec', spec, '--paralel', '3'],
      message: /error: unknown option '--paralel'/,
    },
    {
      name: 'spec without a version',
      args: () => [
        '--query',
        query,
        '--analysis_spec',
        writeSpec(dir, [{ analysis_name: 'Noop' }], 'noversion.json'),
      ],
      message: /analysis_version/,
    },
    {
      name: 'spec that is not a list',
      args: () => [
        '--query',
        query,
        '--analysis_spec',
        writeSpec(dir, { analysis_name: 'Noop' } as never, 'object.json'),
      ],
      message: /list|array/i,
    },
    {
      refusedBy: 'planning',
      name: 'query matching nothing',
      args: () => ['--query', '{"name": "nobody"}', '--analysis_spec', spec],
      message: /matched no assets|no assets/i,
    },
    {
      refusedBy: 'planning',
      name: 'unknown TypeScript analysis',
      args: () => [
        '--query',
        query,
        '--analysis_spec',
        writeSpec(dir, [{ analysis_name: 'Nope', analysis_version: '1' }], 'unknown.json'),
      ],
      message: /Nope/,
    },
    {
      refusedBy: 'planning',
      name: 'invalid parameters for the schema',
      args: () => [
        '--query',
        query,
        '--analysis_spec',
        writeSpec(
          dir,
          [{ analysis_name: 'Sleep', analysis_version: '1', analysis_parameters: { ms: 'long' } }],
          'badparams.json',
        ),
      ],
      message: /ms/,
    },
    {
      refusedBy: 'planning',
      name: 'output bucket that does not exist',
      args: () => [
        '--query',
        query,
        '--analysis_spec',
        writeSpec(
          dir,
          [{ analysis_name: 'Noop', analysis_version: '1', s3_output_bucket: 'no-such-bucket-here' }],
          'nobucket.json',
        ),
      ],
      message: /no-such-bucket-here/,
    },
    {
      refusedBy: 'planning',
      name: 'file extension matching nothing',
      args: () => ['--query', query, '--analysis_spec', spec, '--file_extension', '.zarr'],
      message: /\.zarr/,
    },
    {
      name: 'CSV without an asset_id column',
      args: () => {
        writeFileSync(join(dir, 'ids.csv'), 'id\nasset_0000\n');
        return ['--use_data_assets', '1', '--asset_csv', join(dir, 'ids.csv'), '--analysis_spec', spec];
      },
      message: /asset_id/,
    },
    {
      name: '--query and --docdb_query that differ',
      args: () => ['--query', query, '--docdb_query', '{}', '--analysis_spec', spec],
      message: /--query and --docdb_query are one flag under two names/,
    },
    {
      name: '--use_data_asset_csv 1 with an --input_directory holding no CSV',
      args: () => [
        '--use_data_asset_csv',
        '1',
        '--input_directory',
        mkdtempSync(join(dir, 'no-csv-')),
        '--analysis_spec',
        spec,
      ],
      message: /--input_directory .* holds no \*\.csv file/,
    },
    {
      name: '--input_directory that does not exist',
      args: () => ['--query', query, '--input_directory', join(dir, 'nowhere'), '--analysis_spec', spec],
      message: /--input_directory .*nowhere cannot be read: ENOENT/,
    },
    {
      name: '--filter_latest without --filter_by',
      args: () => ['--query', query, '--filter_latest', 'created', '--analysis_spec', spec],
      message: /--filter_latest created needs --filter_by/,
    },
    {
      name: '--unwind_list_fields of a field that makes no group',
      args: () => ['--query', query, '--unwind_list_fields', 'tags', '--analysis_spec', spec],
      message: /--unwind_list_fields tags: not a --group_by field/,
    },
    {
      name: '--drop_null_groups 2',
      args: () => [
        '--query',
        query,
        '--group_by',
        'subject.subject_id',
        '--drop_null_groups',
        '2',
        '--analysis_spec',
        spec,
      ],
      message: /--drop_null_groups must be 0 or 1/,
    },
    {
      name: 'distributed_parameters that is not a list',
      args: () => {
        writeFileSync(join(dir, 'params.json'), '{"distributed_parameters": {"a": 1}}');
        return ['--query', query, '--analysis_spec', spec, '--analysis_parameters', join(dir, 'params.json')];
      },
      message: /distributed_parameters/,
    },
    {
      name: 'an integer past 2^53 in distributed_parameters',
      args: () => [
        '--query',
        query,
        '--analysis_spec',
        spec,
        '--analysis_parameters',
        parameters('seed.json', '{"distributed_parameters": [{"seed": 1}, {"seed": 9007199254740993}]}'),
      ],
      message: /distributed_parameters\[1\]\.seed: 9007199254740993 is an integer beyond/,
    },
    {
      name: 'an integer past 2^53 in the query',
      args: () => ['--query', '{"seed": -9007199254740993}', '--analysis_spec', spec],
      message: /--query filter: seed: -9007199254740993 is an integer beyond/,
    },
    {
      name: 'an integer past 2^53 in the parameters of a spec',
      args: () => [
        '--query',
        query,
        '--analysis_spec',
        parameters(
          'bigspec.json',
          '[{"analysis_name": "Noop", "analysis_version": "1", "analysis_parameters": {"n": 12345678901234567890}}]',
        ),
      ],
      message: /\[0\]\.analysis_parameters\.n: 12345678901234567890/,
    },
    {
      name: 'a query nested deeper than 64 levels',
      args: () => ['--query', `${'{"$and": ['.repeat(70)}{}${']}'.repeat(70)}`, '--analysis_spec', spec],
      message: /--query filter: .*nests deeper than 64 levels/,
    },
    {
      name: 'parameters nested deeper than 64 levels',
      args: () => [
        '--query',
        query,
        '--analysis_spec',
        spec,
        '--analysis_parameters',
        parameters('deep.json', `{"fixed_parameters": ${'{"a": '.repeat(80)}1${'}'.repeat(80)}}`),
      ],
      message: /fixed_parameters\.a\.a.*nests deeper than 64 levels/,
    },
    {
      name: '--force with a value other than 0 or 1',
      args: () => ['--query', query, '--analysis_spec', spec, '--force', 'yes'],
      message: /--force must be 0 or 1, got "yes"/,
    },
    {
      name: 'a flag without its value',
      args: () => ['--query', query, '--analysis_spec', spec, '--tasks_per_job'],
      message: /error: option '--tasks_per_job <n>' argument missing/,
    },
    {
      name: 'a missing required option',
      args: () => ['--query', query],
      message: /error: required option '--analysis_spec <file>' not specified/,
    },
    {
      name: 'an unknown command',
      command: () => ['dispatchh', '--query', query, '--analysis_spec', spec],
      message: /error: unknown command 'dispatchh'/,
    },
    {
      name: 'schedule create with a malformed flag',
      command: () => [
        'schedule',
        'create',
        'bad-flags',
        '--every',
        '1h',
        '--query',
        query,
        '--analysis_spec',
        spec,
        '--dry_run',
        '2',
      ],
      message: /--dry_run must be 0 or 1, got "2"/,
    },
    {
      name: 'plan with an integer past 2^53 in the query',
      command: () => ['plan', '--query', '{"n": {"$gt": 9007199254740993}}', '--analysis_spec', spec],
      message: /n\.\$gt: 9007199254740993/,
    },
  ];

  // Refused by the CLI first: no workflow is started by any of them, which the test after them checks.
  const ordered = [
    ...cases.filter((one) => one.refusedBy !== 'planning'),
    ...cases.filter((one) => one.refusedBy === 'planning'),
  ];
  const lastOfCli = ordered.filter((one) => one.refusedBy !== 'planning').at(-1);
  for (const one of ordered) {
    const { name, args, command, message, refusedBy = 'cli' } = one;
    test(`${name}: clear message, exit 2, no collection changed, nothing written`, async () => {
      const databaseBefore = await databaseContents();
      const result = await runCli(command?.() ?? ['dispatch', ...args!()], stack.env);
      assert.equal(result.code, 2, `expected exit 2, got ${result.code}: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr, message);
      assert.deepEqual(await databaseContents(), databaseBefore, 'no collection changed, requests included');
      assert.deepEqual(await listKeys(stack.s3, stack.bucket), objectsBefore);
      const started = /^dispatch (\S+)$/m.exec(result.stdout)?.[1];
      if (refusedBy === 'cli') assert.equal(started, undefined, 'refused before a dispatch started');
      else {
        assert.ok(started, `a dispatch whose planning refused it: ${result.stdout}`);
        refusedInPlanning.push(`dispatch-${started}`);
      }
    });
    if (one === lastOfCli) {
      test('the command lines the CLI refused started no workflow', async () => {
        // Visibility lists a started workflow within moments; give it ample time to.
        await delay(3000);
        assert.deepEqual(await workflowsOnQueue(), []);
      });
    }
  }

  test('the dispatches refused in planning failed there and started no job', async () => {
    await delay(3000);
    const workflows = await workflowsOnQueue();
    assert.deepEqual(
      workflows.map((workflow) => [workflow.id, workflow.type, workflow.status]).sort(),
      refusedInPlanning.map((id) => [id, 'dispatch', 'FAILED']).sort(),
    );
  });

  test('0|1 flags as users type them: alone, and followed by a value', async () => {
    const databaseBefore = await databaseContents();
    const result = await runCli(
      [
        'plan',
        '--query',
        query,
        '--analysis_spec',
        spec,
        '--rerun_changed_inputs',
        '--dry_run',
        '0',
        '--force',
      ],
      stack.env,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /2 tasks from 2 assets/);
    assert.deepEqual(await databaseContents(), databaseBefore, 'plan stores nothing');
  });
});
