import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import type { AnalysisDefinition, AnalysisRegistry } from '../../src/analysis/definition';
import { InputError } from '../../src/errors';
import { identityHash } from '../../src/identity';
import { expandTasks, type ExpandInput } from '../../src/planning/expand';
import { checkParameterSets, parameterSets } from '../../src/planning/parameters';
import type { SelectedAsset } from '../../src/planning/select';
import type { AnalysisSpec } from '../../src/types';

const asset = (id: string, subject: string, project = 'P'): SelectedAsset => ({
  id,
  name: `behavior_${subject}_${id}`,
  location: `s3://data/${id}`,
  doc: { _id: id, subject: { subject_id: subject }, data_description: { project_name: project } },
});
const assets = [asset('c', '741213'), asset('a', '741213'), asset('b', '702345', 'Q')];
const files = new Map([
  ['s3://data/a', ['s3://data/a/x.csv', 's3://data/a/y.csv']],
  ['s3://data/b', ['s3://data/b/x.csv']],
  ['s3://data/c', []],
]);
const spec = (name: string, parameters: Record<string, unknown> = {}): AnalysisSpec => ({
  analysis_name: name,
  analysis_version: 'v1',
  analysis_libraries: [],
  analysis_parameters: parameters,
  s3_output_bucket: 'results/prefix',
});
const request = (overrides: Partial<ExpandInput['request']> = {}): ExpandInput['request'] => ({
  split_files: true,
  group_by: [],
  specs: [spec('A')],
  fixed_parameters: {},
  distributed_parameters: [],
  ...overrides,
});
const expand = (overrides: Partial<ExpandInput['request']> = {}, withFiles = false) => {
  const req = request(overrides);
  return expandTasks({
    assets,
    files: withFiles ? files : undefined,
    request: req,
    libraries: req.specs.map(() => ({})),
  });
};

describe('expandTasks', () => {
  test('one task per asset without file discovery, sorted by id', () => {
    const { tasks } = expand();
    assert.deepEqual(
      tasks.map((task) => task.input.docdb_record_id),
      [['a'], ['b'], ['c']],
    );
    assert.deepEqual(tasks[0]?.input, {
      s3_location: ['s3://data/a'],
      asset_name: ['behavior_741213_a'],
      docdb_record_id: ['a'],
      file_location: [],
    });
  });

  test('each task has its identity hash and output location', () => {
    for (const task of expand().tasks) {
      const { hash, location, group: _group, ...identity } = task;
      assert.equal(hash, identityHash(identity));
      assert.equal(location, `s3://results/prefix/${hash}`);
    }
  });

  test('split_files 1: one task per file; 0: one task per asset; assets without files are reported', () => {
    const split = expand({ file_extension: '.csv' }, true);
    assert.deepEqual(
      split.tasks.map((task) => task.input.file_location),
      [['s3://data/a/x.csv'], ['s3://data/a/y.csv'], ['s3://data/b/x.csv']],
    );
    assert.equal(split.assets_without_files, 1);
    assert.match(split.warnings.join('\n'), /behavior_741213_c has no file ending with "\.csv"/);
    const whole = expand({ file_extension: '.csv', split_files: false }, true);
    assert.deepEqual(
      whole.tasks.map((task) => task.input.file_location),
      [['s3://data/a/x.csv', 's3://data/a/y.csv'], ['s3://data/b/x.csv']],
    );
  });

  test('N inputs x specs x M parameter sets, merged spec < fixed < distributed', () => {
    const { tasks } = expand({
      specs: [spec('A', { x: 'spec', y: 'spec', z: 'spec' }), spec('B')],
      fixed_parameters: { y: 'fixed', z: 'fixed' },
      distributed_parameters: [{ z: 1 }, { z: 2 }],
    });
    assert.equal(tasks.length, 3 * 2 * 2);
    assert.equal(new Set(tasks.map((task) => task.hash)).size, 12);
    assert.deepEqual(tasks[0]?.parameters, { x: 'spec', y: 'fixed', z: 1 });
    assert.deepEqual(tasks[1]?.parameters, { x: 'spec', y: 'fixed', z: 2 });
    assert.deepEqual(tasks[2]?.parameters, { y: 'fixed', z: 1 });
  });

  test('group_by: one task per distinct value, carrying every member and file', () => {
    const { tasks } = expand({ group_by: ['subject.subject_id'], file_extension: '.csv' }, true);
    assert.deepEqual(
      tasks.map((task) => [task.group, task.input.docdb_record_id, task.input.file_location]),
      [
        [{ 'subject.subject_id': '702345' }, ['b'], ['s3://data/b/x.csv']],
        [{ 'subject.subject_id': '741213' }, ['a'], ['s3://data/a/x.csv', 's3://data/a/y.csv']],
      ],
    );
    const byTwo = expand({ group_by: ['subject.subject_id', 'data_description.project_name'] }).tasks;
    assert.deepEqual(
      byTwo.map((task) => task.input.docdb_record_id),
      [['b'], ['a', 'c']],
    );
  });

  test('deterministic: the same request in any input order plans the same tasks in the same order', () => {
    const first = expand({ file_extension: '.csv' }, true).tasks;
    const again = expandTasks({
      assets: [...assets].reverse(),
      files: new Map([...files].reverse()),
      request: request({ file_extension: '.csv' }),
      libraries: [{}],
    }).tasks;
    assert.deepEqual(again, first);
  });

  test('the hash does not depend on parameter key order', () => {
    const one = expand({ fixed_parameters: { a: 1, b: { c: 2, d: 3 } } }).tasks[0]?.hash;
    const two = expand({ fixed_parameters: { b: { d: 3, c: 2 }, a: 1 } }).tasks[0]?.hash;
    assert.equal(one, two);
  });

  test('duplicate parameter sets plan one task', () => {
    const result = expand({ distributed_parameters: [{ z: 1 }, { z: 1 }] });
    assert.equal(result.tasks.length, 3);
    assert.match(result.warnings.join('\n'), /3 duplicate tasks/);
  });
});

const unitYield: AnalysisDefinition = {
  name: 'Unit Yield',
  parameters: z.object({
    isi_violations: z.number().min(0),
    window: z.object({ start: z.number() }).optional(),
  }),
  outputs: z.object({}),
  run: async () => ({}),
};
const registry: AnalysisRegistry = {
  get: (name) => (name === unitYield.name ? unitYield : undefined),
  names: () => [unitYield.name],
};
const params = (fixed: Record<string, unknown>, distributed: Record<string, unknown>[] = []) => ({
  fixed_parameters: fixed,
  distributed_parameters: distributed,
});

describe('parameterSets', () => {
  test('one set without distributed entries, one per entry otherwise', () => {
    assert.deepEqual(parameterSets(spec('A', { a: 1 }), params({ b: 2 })), [
      { source: 'fixed parameters', parameters: { a: 1, b: 2 } },
    ]);
    assert.deepEqual(
      parameterSets(spec('A', { a: 1 }), params({ a: 2 }, [{ a: 3 }, {}])).map((set) => set.parameters),
      [{ a: 3 }, { a: 2 }],
    );
  });
});

describe('checkParameterSets', () => {
  test('accepts valid sets and skips spec commands where they are allowed', () => {
    checkParameterSets([spec('Unit Yield', { isi_violations: 0.5 })], params({}), registry);
    checkParameterSets([{ ...spec('Anything'), command: ['python3', 'x.py'] }], params({}), registry, true);
  });

  test('an unknown analysis lists the known ones', () => {
    assert.throws(
      () => checkParameterSets([spec('Unit Yeild')], params({}), registry),
      (err: Error) =>
        err instanceof InputError &&
        err.message.includes('"Unit Yeild"') &&
        err.message.includes('known: Unit Yield'),
    );
  });

  test('an invalid set names the analysis, the entry and the field path', () => {
    assert.throws(
      () =>
        checkParameterSets(
          [spec('Unit Yield', { isi_violations: 0.5 })],
          params({}, [{}, { isi_violations: -1 }]),
          registry,
        ),
      (err: Error) =>
        err instanceof InputError &&
        err.message.includes('"Unit Yield"') &&
        err.message.includes('distributed_parameters[1]') &&
        err.message.includes('isi_violations:'),
    );
    assert.throws(
      () =>
        checkParameterSets(
          [spec('Unit Yield', { isi_violations: 1, window: { start: 'x' } })],
          params({}),
          registry,
        ),
      /window\.start:/,
    );
  });
});
