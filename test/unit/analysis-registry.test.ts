import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { defineAnalysis } from '../../src/analysis/define';
import { projectRoot } from '../../src/analysis/paths';
import {
  loadRegistry,
  resolveAnalysesDir,
  validateCommandOutputs,
  validateCommandParameters,
  validateOutputs,
  validateParameters,
} from '../../src/analysis/registry';
import { ErrorType, InputError } from '../../src/errors';

const root = projectRoot();
const defineModule = join(root, 'src/analysis/define');

/** A module source defining one analysis named `name`. */
const analysisSource = (name: string) => `
import { z } from 'zod';
import { defineAnalysis } from ${JSON.stringify(defineModule)};
export default defineAnalysis({
  name: ${JSON.stringify(name)},
  parameters: z.object({}),
  outputs: z.object({}),
  run: async () => ({}),
});
`;

function isFailure(type: ErrorType, pattern: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(err)}`);
    assert.equal(err.type, type);
    assert.equal(err.nonRetryable, true);
    assert.match(err.message, pattern);
    return true;
  };
}

void describe('analysis/registry', () => {
  let scratch: string;
  before(async () => {
    // Inside the project, so that modules written here resolve `zod` from its node_modules.
    await mkdir(join(root, 'test-output'), { recursive: true });
    scratch = await mkdtemp(join(root, 'test-output', 'registry-'));
  });
  after(() => rm(scratch, { recursive: true, force: true }));

  const folder = async (name: string, files: Record<string, string>) => {
    const dir = join(scratch, name);
    await mkdir(dir, { recursive: true });
    for (const [file, source] of Object.entries(files)) await writeFile(join(dir, file), source);
    return dir;
  };

  void test('loadRegistry loads the definitions of a folder and skips everything else', async () => {
    const dir = await folder('mixed', {
      'one.ts': analysisSource('One'),
      'two.js': `const { z } = require('zod');\nmodule.exports = { name: 'Two', parameters: z.object({}), outputs: z.object({}), run: async () => ({}) };\n`,
      'helper.ts': 'export default function helper() { return 1; }\nexport const value = 2;\n',
      '_private.ts': 'throw new Error("files starting with _ are never loaded");\n',
      'types.d.ts': 'export declare const x: number;\n',
      'notes.json': '{"name": "Not a module"}\n',
    });
    const registry = await loadRegistry(dir);
    assert.deepEqual(registry.names(), ['One', 'Two']);
    assert.equal(registry.get('One')?.name, 'One');
    assert.equal(registry.get('Missing'), undefined);
  });

  void test('loadRegistry loads the shipped analyses and the test fixtures', async () => {
    assert.deepEqual((await loadRegistry(relative(process.cwd(), join(root, 'analyses')))).names(), [
      'Lick Bouts',
      'Lick Rate',
      'Unit Filtering',
      'Unit Yield',
    ]);
    const fixtures = (await loadRegistry(join(root, 'test/fixtures/analyses'))).names();
    for (const name of ['Always Fails', 'Noop', 'Sleep'])
      assert.ok(fixtures.includes(name), `${name} in ${fixtures.join(', ')}`);
  });

  void test('loadRegistry refuses two analyses with the same name, naming both files', async () => {
    const dir = await folder('duplicates', {
      'a.ts': analysisSource('Same'),
      'b.ts': analysisSource('Same'),
    });
    await assert.rejects(loadRegistry(dir), /"Same" is defined twice: in .*a\.ts and in .*b\.ts/);
  });

  void test('loadRegistry names a module that does not load', async () => {
    const dir = await folder('broken', { 'broken.ts': 'export default {{;\n' });
    await assert.rejects(loadRegistry(dir), /Cannot load analysis module .*broken\.ts/);
  });

  void test('loadRegistry refuses a module whose max_concurrent is not a whole number of at least 1', async () => {
    const defined = await folder('bad-cap-defined', {
      'capped.ts': analysisSource('Capped').replace('run: async', 'max_concurrent: 0,\n  run: async'),
    });
    await assert.rejects(
      loadRegistry(defined),
      (err: unknown) =>
        err instanceof InputError &&
        /capped\.ts: Analysis "Capped": max_concurrent: must be/.test(err.message),
    );
    // A plain object, not made by defineAnalysis, is checked by the registry itself.
    const plain = await folder('bad-cap-plain', {
      'plain.ts': `import { z } from 'zod';
export default { name: 'Plain', parameters: z.object({}), outputs: z.object({}), run: async () => ({}), max_concurrent: 2.5 };
`,
    });
    await assert.rejects(
      loadRegistry(plain),
      (err: unknown) =>
        err instanceof InputError && /"Plain" in .*plain\.ts: max_concurrent: must be/.test(err.message),
    );
    const good = await folder('good-cap', {
      'capped.ts': analysisSource('Capped').replace('run: async', 'max_concurrent: 3,\n  run: async'),
    });
    assert.equal((await loadRegistry(good)).get('Capped')?.max_concurrent, 3);
  });

  void test('resolveAnalysesDir prefers the working directory, then the project', () => {
    assert.equal(resolveAnalysesDir('/abs/analyses'), '/abs/analyses');
    const cwd = process.cwd();
    try {
      process.chdir(scratch);
      assert.equal(resolveAnalysesDir('analyses'), join(root, 'analyses'));
      assert.equal(resolveAnalysesDir('mixed'), resolve(scratch, 'mixed'));
    } finally {
      process.chdir(cwd);
    }
  });

  const definition = defineAnalysis({
    name: 'Thresholds',
    parameters: z.object({
      isi_violations: z.number().min(0),
      nested: z.object({ bins: z.array(z.int()) }).optional(),
    }),
    outputs: z.object({ count: z.number() }),
    run: async () => ({ count: 1 }),
  });

  void test('validateParameters returns the parsed set or fails for good naming the field', () => {
    assert.deepEqual(validateParameters(definition, { isi_violations: 0.5, extra: 1 }), {
      isi_violations: 0.5,
    });
    assert.throws(
      () => validateParameters(definition, { isi_violations: -1 }),
      isFailure(
        ErrorType.InvalidParameters,
        /Invalid parameters for analysis "Thresholds": isi_violations: .*>=0/,
      ),
    );
    assert.throws(
      () => validateParameters(definition, {}),
      isFailure(ErrorType.InvalidParameters, /isi_violations: .*expected number/),
    );
    assert.throws(
      () => validateParameters(definition, { isi_violations: 1, nested: { bins: [1, 'x'] } }),
      isFailure(ErrorType.InvalidParameters, /nested\.bins\[1\]: /),
    );
  });

  void test('validateOutputs fails for good naming the field', () => {
    assert.deepEqual(validateOutputs(definition, { count: 2 }), { count: 2 });
    assert.throws(
      () => validateOutputs(definition, { count: 'two' }),
      isFailure(ErrorType.InvalidOutputs, /Invalid outputs of analysis "Thresholds": count: /),
    );
  });

  const manifest = (fields: Record<string, unknown>) =>
    JSON.stringify({
      name: 'Counter',
      command: ['python3', 'count.py'],
      parameters: { type: 'object', properties: { n: { type: 'integer', minimum: 1, default: 3 } } },
      outputs: { type: 'object', properties: { count: { type: 'integer' } }, required: ['count'] },
      ...fields,
    });

  void test('loadRegistry serves command manifests, resolving their scripts beside them', async () => {
    const dir = await folder('manifests', {
      'count.py': 'print(1)\n',
      'counter.analysis.json': manifest({ timeout: '5 minutes', max_attempts: 2 }),
    });
    const registry = await loadRegistry(dir);
    assert.deepEqual(registry.names(), ['Counter']);
    assert.deepEqual(registry.problems, []);
    const counter = registry.command?.('Counter');
    assert.ok(counter);
    assert.deepEqual(counter.command, ['python3', join(dir, 'count.py')]);
    assert.equal(registry.file?.('Counter'), join(dir, 'counter.analysis.json'));
    assert.deepEqual([counter.timeout, counter.max_attempts], ['5 minutes', 2]);
    assert.equal(registry.get('Counter'), undefined, 'not a TypeScript analysis');
  });

  void test('an invalid manifest is reported with its file and field, the valid ones still served', async () => {
    const dir = await folder('bad-manifests', {
      'a-good.analysis.json': manifest({}),
      'b-no-command.analysis.json': manifest({ name: 'B', command: [] }),
      'c-bad-schema.analysis.json': manifest({ name: 'C', parameters: { type: 'object', propertys: {} } }),
      'd-misspelt.analysis.json': manifest({ name: 'D', max_attempt: 2 }),
      'e-duplicate.analysis.json': manifest({}),
      'f-not-json.analysis.json': '{',
      'g-zero-cap.analysis.json': manifest({ name: 'G', max_concurrent: 0 }),
      'h-fraction-cap.analysis.json': manifest({ name: 'H', max_concurrent: 1.5 }),
      'i-capped.analysis.json': manifest({ name: 'I', max_concurrent: 4 }),
      'one.ts': analysisSource('One'),
    });
    const registry = await loadRegistry(dir);
    assert.deepEqual(registry.names(), ['Counter', 'I', 'One']);
    assert.equal(registry.command?.('I')?.max_concurrent, 4);
    const problems = Object.fromEntries(
      (registry.problems ?? []).map((problem) => [relative(dir, problem.file), problem.message]),
    );
    assert.deepEqual(Object.keys(problems).sort(), [
      'b-no-command.analysis.json',
      'c-bad-schema.analysis.json',
      'd-misspelt.analysis.json',
      'e-duplicate.analysis.json',
      'f-not-json.analysis.json',
      'g-zero-cap.analysis.json',
      'h-fraction-cap.analysis.json',
    ]);
    assert.equal(problems['g-zero-cap.analysis.json'], 'max_concurrent: must be a whole number, at least 1');
    assert.equal(
      problems['h-fraction-cap.analysis.json'],
      'max_concurrent: must be a whole number, at least 1',
    );
    assert.match(problems['b-no-command.analysis.json']!, /^command: must not be empty/);
    assert.match(
      problems['c-bad-schema.analysis.json']!,
      /^parameters: not a valid JSON Schema: .*propertys/,
    );
    assert.match(problems['d-misspelt.analysis.json']!, /unknown field "max_attempt"/);
    assert.match(problems['e-duplicate.analysis.json']!, /^name: "Counter" is already defined in .*a-good/);
    assert.match(problems['f-not-json.analysis.json']!, /not a readable JSON file/);
  });

  void test('validateCommandParameters applies defaults; both checks fail for good, naming the field', async () => {
    const dir = await folder('command-checks', { 'counter.analysis.json': manifest({}) });
    const counter = (await loadRegistry(dir)).command?.('Counter');
    assert.ok(counter);
    const given = {};
    assert.deepEqual(validateCommandParameters(counter, given), { n: 3 });
    assert.deepEqual(given, {}, 'the given object is left as it was');
    assert.throws(
      () => validateCommandParameters(counter, { n: 0 }),
      isFailure(ErrorType.InvalidParameters, /analysis "Counter": n: must be >= 1/),
    );
    assert.deepEqual(validateCommandOutputs(counter, { count: 2 }), { count: 2 });
    assert.throws(
      () => validateCommandOutputs(counter, { count: 'two' }),
      isFailure(ErrorType.InvalidOutputs, /analysis "Counter": count: must be integer/),
    );
    assert.throws(
      () => validateCommandOutputs(counter, {}),
      isFailure(ErrorType.InvalidOutputs, /count: is required/),
    );
  });
});
