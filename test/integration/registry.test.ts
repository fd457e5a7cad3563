import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { recordFacts } from '../../src/aind/metadata';
import type { StoredRecord } from '../../src/types';
import { runCli } from '../helpers/cli';
import { seedAssets, writeSpec } from '../helpers/data';
import { FIXTURE_ANALYSES, listKeys, testStack, type TestStack } from '../helpers/stack';

/**
 * Command analyses registered on the worker: the fixtures' "Count" manifest, run by a default
 * worker, which refuses commands given in a spec.
 */
describe('analysis registry', () => {
  let stack: TestStack;
  let dir: string;
  const query = '{"name": {"$regex": "^reg_"}}';
  const records = () =>
    stack.mongo.db(stack.config.DOCDB_DATABASE).collection<StoredRecord>(stack.config.DOCDB_COLLECTION);

  before(async () => {
    stack = await testStack('registry');
    stack.env.ANALYSIS_MODULES_DIR = FIXTURE_ANALYSES;
    await stack.startWorker({ ANALYSIS_MODULES_DIR: FIXTURE_ANALYSES });
    await seedAssets(stack, { count: 2, namePrefix: 'reg' });
    dir = mkdtempSync(join(tmpdir(), 'registry-'));
  });
  after(async () => stack?.close());

  const dispatch = (specs: unknown[], file: string, extra: string[] = []) =>
    runCli(
      ['dispatch', '--query', query, '--analysis_spec', writeSpec(dir, specs, file), '--wait', ...extra],
      stack.env,
    );

  test('a registered command runs with its schema defaults; its record holds the checked outputs', async () => {
    const result = await dispatch([{ analysis_name: 'Count', analysis_version: '1' }], 'count.json');
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const written = await records().find({ analysis_name: 'Count', analysis_version: '1' }).toArray();
    assert.equal(written.length, 2);
    for (const record of written) assert.deepEqual(recordFacts(record).outputs, { count: 3 });
  });

  test('outputs failing the manifest schema fail the task for good, naming the field', async () => {
    const result = await dispatch(
      [
        {
          analysis_name: 'Count',
          analysis_version: 'bad-outputs',
          analysis_parameters: { outputs: { count: 'many' } },
        },
      ],
      'bad-outputs.json',
      ['--tolerated_failure_percent', '100'],
    );
    assert.equal(result.code, 4, result.stderr + result.stdout);
    assert.match(result.stdout, /Invalid outputs of analysis "Count": count: must be integer/);
    assert.equal(await records().countDocuments({ analysis_version: 'bad-outputs' }), 0);
  });

  const refused: Array<{ name: string; specs: unknown[]; message: RegExp }> = [
    {
      name: 'parameters failing the JSON Schema',
      specs: [{ analysis_name: 'Count', analysis_version: '1', analysis_parameters: { n: 0 } }],
      message: /invalid parameters for analysis "Count" 1 \(fixed parameters\): n: must be >= 1/,
    },
    {
      name: 'a parameter the schema does not know',
      specs: [{ analysis_name: 'Count', analysis_version: '1', analysis_parameters: { m: 1 } }],
      message: /"Count".*m: unknown field/,
    },
    {
      name: 'an unregistered analysis',
      specs: [{ analysis_name: 'Nobody', analysis_version: '1' }],
      message: /"Nobody" is not registered on the workers \(known: .*Count/,
    },
    {
      name: 'a spec command on a default worker',
      specs: [{ analysis_name: 'Own', analysis_version: '1', command: ['node', '-e', '1'] }],
      message: /analysis "Own": .*\.analysis\.json.*ANALYSIS_ALLOW_SPEC_COMMANDS=1/,
    },
  ];
  for (const { name, specs, message } of refused) {
    test(`${name}: exit 2, the reason named, nothing written`, async () => {
      const before = await listKeys(stack.s3, stack.bucket);
      const countBefore = await records().countDocuments();
      const result = await dispatch(specs, `${name.replace(/\W+/g, '-')}.json`);
      assert.equal(result.code, 2, result.stderr + result.stdout);
      assert.match(result.stderr, message);
      assert.equal(await records().countDocuments(), countBefore);
      assert.deepEqual(await listKeys(stack.s3, stack.bucket), before);
    });
  }

  test('an invalid manifest is reported with its file and field; the valid ones are served', async () => {
    const analyses = mkdtempSync(join(tmpdir(), 'registry-analyses-'));
    cpSync(join(FIXTURE_ANALYSES, 'count.analysis.json'), join(analyses, 'count.analysis.json'));
    cpSync(join(FIXTURE_ANALYSES, 'count.mjs'), join(analyses, 'count.mjs'));
    writeFileSync(
      join(analyses, 'broken.analysis.json'),
      JSON.stringify({ name: 'Broken', command: ['x'], parameters: { type: 'object' }, outputs: 'none' }),
    );
    const worker = await stack.startWorker({ ANALYSIS_MODULES_DIR: analyses });
    assert.deepEqual(worker.analyses, ['Count']);
    assert.deepEqual(worker.registryProblems, [
      { file: join(analyses, 'broken.analysis.json'), message: 'outputs: must be a JSON Schema object' },
    ]);
  });
});
