import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { InputError } from '../../src/errors';
import { expandTasks } from '../../src/planning/expand';
import { checkParameterKeys } from '../../src/request/parameter-keys';
import { loadParameters, loadSpecs } from '../../src/request/spec';

const dir = mkdtempSync(join(tmpdir(), 'parameter-keys-'));
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};

describe('parameters are data', () => {
  test('keys special to JavaScript objects survive loading, merging and the identity hash', () => {
    const parameters = loadParameters(
      file(
        'p.json',
        '{"fixed_parameters": {"constructor": "c"}, "distributed_parameters": [{"__proto__": {"w": 1}}, {"__proto__": {"w": 2}}, {"toString": 3}]}',
      ),
    );
    const [spec] = loadSpecs(
      file(
        's.json',
        '[{"analysis_name": "A", "analysis_version": "1", "analysis_parameters": {"__proto__": 0}}]',
      ),
      'results',
    );
    assert.deepEqual(Object.keys(spec!.analysis_parameters), ['__proto__']);
    const { tasks, warnings } = expandTasks({
      assets: [{ id: 'a', name: 'a', location: 's3://data/a', doc: { _id: 'a' } }],
      request: { split_files: true, group_by: [], specs: [spec!], ...parameters },
      libraries: [{}],
    });
    assert.deepEqual(warnings, []);
    assert.deepEqual(
      tasks.map((task) => JSON.stringify(task.parameters)),
      [
        '{"__proto__":{"w":1},"constructor":"c"}',
        '{"__proto__":{"w":2},"constructor":"c"}',
        '{"__proto__":0,"constructor":"c","toString":3}',
      ],
    );
    assert.equal(new Set(tasks.map((task) => task.hash)).size, 3);
  });

  test('keys the records cannot hold are refused before anything runs, naming where', () => {
    const none = { fixed_parameters: {}, distributed_parameters: [] };
    assert.throws(
      () =>
        checkParameterKeys([], { ...none, distributed_parameters: [{ ok: 1 }, { deep: [{ 'a.b': 1 }] }] }),
      (err: Error) =>
        err instanceof InputError &&
        err.message.startsWith('distributed_parameters[1]: the key "a.b" at deep[0].a.b cannot be stored'),
    );
    assert.throws(
      () => checkParameterKeys([], { ...none, fixed_parameters: { $set: 1 } }),
      /"\$set" at \$set/,
    );
    assert.doesNotThrow(() =>
      checkParameterKeys([], { ...none, fixed_parameters: JSON.parse('{"__proto__": {"constructor": 1}}') }),
    );
  });
});
