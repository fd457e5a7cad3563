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
  validateOutputs,
  validateParameters,
} from '../../src/analysis/registry';
import { ErrorType } from '../../src/errors';

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
});
