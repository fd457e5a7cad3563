import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { InputError } from '../../src/errors';
import { checkSpecs, loadParameters, loadSpecs } from '../../src/request/spec';

const dir = mkdtempSync(join(tmpdir(), 'planning-spec-'));
let files = 0;

function file(content: unknown): string {
  const path = join(dir, `f${files++}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const rejects = (fn: () => unknown, ...parts: string[]) =>
  assert.throws(
    fn,
    (err: Error) => err instanceof InputError && parts.every((part) => err.message.includes(part)),
  );

describe('loadSpecs', () => {
  test('applies defaults and the default bucket', () => {
    const [spec] = loadSpecs(
      file([{ analysis_name: 'Unit Yield', analysis_version: 'v1' }]),
      'results/unit-yield/',
    );
    assert.deepEqual(spec, {
      analysis_name: 'Unit Yield',
      analysis_version: 'v1',
      analysis_libraries: [],
      analysis_parameters: {},
      s3_output_bucket: 'results/unit-yield',
    });
  });

  test('keeps every optional field', () => {
    const entry = {
      analysis_name: 'Lick rate',
      analysis_version: '0.1.0',
      analysis_libraries: ['numpy'],
      analysis_parameters: { window: 2 },
      s3_output_bucket: 'my-bucket/licks',
      command: ['python3', 'analyses/lick_rate.py'],
      download_inputs: true,
      timeout: '30 minutes',
      max_attempts: 3,
    };
    assert.deepEqual(loadSpecs(file([entry])), [entry]);
  });

  test('missing name or version names the entry index and the field', () => {
    const path = file([
      { analysis_name: 'A', analysis_version: 'v1' },
      { analysis_name: 'B' },
      { analysis_version: 'v2' },
    ]);
    rejects(
      () => loadSpecs(path, 'b1'),
      path,
      'entry 1 (B): analysis_version: is required',
      'entry 2: analysis_name: is required',
    );
    rejects(
      () => loadSpecs(file([{ analysis_name: ' ', analysis_version: 'v' }]), 'b1'),
      'analysis_name: must not be empty',
    );
  });

  test('no bucket in the entry nor ANALYSIS_BUCKET is an error', () => {
    rejects(
      () => loadSpecs(file([{ analysis_name: 'A', analysis_version: 'v1' }])),
      'entry 0 (A)',
      'ANALYSIS_BUCKET',
    );
  });

  test('refuses bad shapes and misspelt fields', () => {
    const base = { analysis_name: 'A', analysis_version: 'v1', s3_output_bucket: 'bucket' };
    rejects(() => loadSpecs(file([])), 'at least one');
    rejects(() => loadSpecs(file({ analysis_name: 'A' })), 'must be a JSON list');
    rejects(
      () => loadSpecs(file([{ ...base, analysis_parameter: {} }])),
      'entry 0 (A): unknown field "analysis_parameter"',
    );
    rejects(
      () => loadSpecs(file([{ ...base, analysis_parameters: [1] }])),
      'analysis_parameters: must be a JSON object',
    );
    rejects(() => loadSpecs(file([{ ...base, command: [] }])), 'command: must not be empty');
    rejects(() => loadSpecs(file([{ ...base, s3_output_bucket: 's3://bucket' }])), 's3_output_bucket');
    rejects(() => loadSpecs(file([{ ...base, timeout: 'soon' }])), 'timeout');
    rejects(() => loadSpecs(file([{ ...base, max_attempts: 0 }])), 'max_attempts');
  });

  test('a missing file or invalid JSON names the file', () => {
    rejects(() => loadSpecs(join(dir, 'missing.json')), 'missing.json', 'does not exist');
    const path = file('[{"analysis_name": }]');
    rejects(() => loadSpecs(path), path, 'not valid JSON', 'line 1');
  });
});

describe('loadParameters', () => {
  test('defaults both parts', () => {
    assert.deepEqual(loadParameters(file({})), { fixed_parameters: {}, distributed_parameters: [] });
    assert.deepEqual(
      loadParameters(file({ fixed_parameters: { a: 1 }, distributed_parameters: [{ b: 1 }, { b: 2 }] })),
      {
        fixed_parameters: { a: 1 },
        distributed_parameters: [{ b: 1 }, { b: 2 }],
      },
    );
  });

  test('distributed_parameters must be a list of objects', () => {
    rejects(
      () => loadParameters(file({ distributed_parameters: { b: 1 } })),
      'distributed_parameters: must be a list',
    );
    rejects(() => loadParameters(file({ distributed_parameters: [1] })), 'distributed_parameters[0]');
  });

  test('unknown top-level keys are errors', () => {
    rejects(() => loadParameters(file({ fixed_parameter: {} })), 'unknown field "fixed_parameter"');
  });

  test('a missing file or invalid JSON names the file', () => {
    rejects(() => loadParameters(join(dir, 'absent.json')), '--analysis_parameters', 'absent.json');
    rejects(() => loadParameters(file('{')), '--analysis_parameters', 'not valid JSON');
  });
});

describe('checkSpecs', () => {
  test('checkSpecs checks specs read back from a stored request as a spec file is checked', () => {
    const stored = [{ analysis_name: 'A', analysis_version: '1', s3_output_bucket: 'out' }];
    assert.equal(checkSpecs(stored, 'the stored request')[0]?.s3_output_bucket, 'out');
    rejects(() => checkSpecs([{ ...stored[0], extra: 1 }], 'x'), 'x: entry 0 (A)', 'extra');
    rejects(
      () => checkSpecs([{ analysis_name: 'A', analysis_version: '1' }], 'x'),
      's3_output_bucket is not set',
    );
    rejects(() => checkSpecs({}, 'x'), 'x:');
  });
});
