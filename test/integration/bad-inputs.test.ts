import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli';
import { seedAssets, writeSpec } from '../helpers/data';
import { listKeys, ROOT, testStack, type TestStack } from '../helpers/stack';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'analyses');

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

  const query = '{"name": {"$regex": "^asset_"}}';
  const cases: Array<{ name: string; args: () => string[]; message: RegExp }> = [
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
      message: /unknown option/,
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
      name: 'query matching nothing',
      args: () => ['--query', '{"name": "nobody"}', '--analysis_spec', spec],
      message: /matched no assets|no assets/i,
    },
    {
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
  ];

  for (const { name, args, message } of cases) {
    test(`${name}: clear message, non-zero exit, nothing written`, async () => {
      const result = await runCli(['dispatch', ...args()], stack.env);
      assert.notEqual(result.code, 0, `expected failure, got: ${result.stdout}`);
      assert.match(result.stderr, message);
      const db = stack.mongo.db(stack.config.DOCDB_DATABASE);
      assert.equal(await db.collection(stack.config.DOCDB_COLLECTION).countDocuments(), 0);
      assert.equal(await db.collection('dispatch_plans').countDocuments(), 0);
      assert.equal(await db.collection('dispatch_requests').countDocuments(), 0, 'the request is not kept');
      assert.deepEqual(await listKeys(stack.s3, stack.bucket), objectsBefore);
    });
  }
});
