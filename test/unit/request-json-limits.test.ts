import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { InputError } from '../../src/errors';
import { jsonTextProblem, MAX_JSON_DEPTH } from '../../src/request/json-limits';
import { parseQuery } from '../../src/request/query';
import { loadParameters, loadSpecs } from '../../src/request/spec';

const dir = mkdtempSync(join(tmpdir(), 'json-limits-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const nested = (depth: number) => `${'{"a":'.repeat(depth - 1)}{}${'}'.repeat(depth - 1)}`;
const refused = (run: () => unknown, ...parts: string[]) =>
  assert.throws(run, (err: Error) => {
    assert.ok(err instanceof InputError, String(err));
    for (const part of parts) assert.ok(err.message.includes(part), `${err.message} lacks ${part}`);
    return true;
  });

describe('planning/json-limits', () => {
  test('integers beyond the exact range are named with where they are', () => {
    assert.equal(jsonTextProblem('{"seed": 9007199254740991, "x": -9007199254740991}'), undefined);
    assert.match(
      jsonTextProblem(
        '{"fixed_parameters": {}, "distributed_parameters": [{"a": 1}, {"seed": 9007199254740993}]}',
      )!,
      /^distributed_parameters\[1\]\.seed: 9007199254740993 is an integer beyond ±9007199254740991/,
    );
    assert.match(jsonTextProblem('[1, [2, -9007199254740992]]')!, /^\[1\]\[1\]: -9007199254740992 /);
    assert.match(
      jsonTextProblem('{"s\\u0065ed": 1e400, "b": 12345678901234567890}')!,
      /^b: 12345678901234567890 /,
    );
    // Fractions and exponents are floating point as written; strings are strings.
    assert.equal(
      jsonTextProblem('{"x": 9007199254740993.5, "y": 1e300, "z": "9007199254740993"}'),
      undefined,
    );
    assert.equal(
      jsonTextProblem('{"k,\\"[{": [1,2], "n": 3}'),
      undefined,
      'brackets and commas inside strings',
    );
  });

  test(`nesting deeper than ${MAX_JSON_DEPTH} levels is named`, () => {
    assert.equal(jsonTextProblem(nested(MAX_JSON_DEPTH)), undefined);
    assert.match(jsonTextProblem(nested(MAX_JSON_DEPTH + 1))!, /^a\.a\.a.*: nests deeper than 64 levels/);
    assert.match(jsonTextProblem('['.repeat(100_000) + ']'.repeat(100_000))!, /nests deeper than 64 levels/);
  });

  test('--query, --analysis_parameters and --analysis_spec refuse them at plan time, naming the field', () => {
    refused(() => parseQuery('{"seed": 9007199254740993}'), '--query filter: seed: 9007199254740993');
    refused(
      () => parseQuery(file('q.json', '{"n": {"$in": [1, 9007199254740993]}}')),
      'n.$in[1]: 9007199254740993',
    );
    refused(() => parseQuery(nested(65)), '--query filter', 'deeper than 64');
    // Deep enough to overflow a recursive walk: refused before any walk.
    refused(() => parseQuery(`${'{"$and":['.repeat(20_000)}{}${']}'.repeat(20_000)}`), 'deeper than 64');
    refused(
      () => loadParameters(file('p.json', '{"distributed_parameters": [{"seed": 9007199254740993}]}')),
      '--analysis_parameters',
      'distributed_parameters[0].seed: 9007199254740993',
    );
    refused(
      () => loadParameters(file('deep.json', `{"fixed_parameters": ${nested(70)}}`)),
      'fixed_parameters.a.a',
      'deeper than 64',
    );
    refused(
      () =>
        loadSpecs(
          file(
            's.json',
            '[{"analysis_name": "A", "analysis_version": "1", "analysis_parameters": {"seed": 18014398509481984}}]',
          ),
          'bucket',
        ),
      '--analysis_spec',
      '[0].analysis_parameters.seed: 18014398509481984',
    );
  });
});
