import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import type { AnalysisRegistry } from '../../src/analysis/definition';
import { projectRoot } from '../../src/analysis/paths';
import { loadRegistry } from '../../src/analysis/registry';
import { withRunPolicy } from '../../src/analysis/run-policy';
import { InputError } from '../../src/errors';
import { checkParameterSets } from '../../src/planning/parameters';
import type { AnalysisSpec } from '../../src/types';

const spec = (fields: Partial<AnalysisSpec>): AnalysisSpec => ({
  analysis_name: 'Count',
  analysis_version: '1',
  analysis_libraries: [],
  analysis_parameters: {},
  ...fields,
});

const inputError = (pattern: RegExp) => (err: unknown) =>
  err instanceof InputError && pattern.test(err.message);

void describe('planning/parameters', () => {
  let registry: AnalysisRegistry;
  before(async () => {
    registry = await loadRegistry(join(projectRoot(), 'test/fixtures/analyses'));
  });
  const request = (distributed: Record<string, unknown>[] = []) => ({
    fixed_parameters: {},
    distributed_parameters: distributed,
  });

  void test('checkParameterSets checks a registered command against its JSON Schema, naming set and field', () => {
    checkParameterSets([spec({ analysis_parameters: { n: 2 } })], request(), registry);
    assert.throws(
      () => checkParameterSets([spec({})], request([{ n: 1 }, { n: 0 }]), registry),
      inputError(/"Count" 1 \(distributed_parameters\[1\]\): n: must be >= 1/),
    );
  });

  void test('checkParameterSets refuses an unregistered analysis, naming what is registered', () => {
    assert.throws(
      () => checkParameterSets([spec({ analysis_name: 'Nobody' })], request(), registry),
      inputError(/"Nobody" is not registered on the workers \(known: .*Count.*\)/),
    );
  });

  void test('checkParameterSets refuses a spec command unless spec commands are allowed', () => {
    const withCommand = spec({ analysis_name: 'Own', command: ['python3', 'x.py'] });
    assert.throws(
      () => checkParameterSets([withCommand], request(), registry),
      inputError(/analysis "Own".*ANALYSIS_ALLOW_SPEC_COMMANDS=1/),
    );
    checkParameterSets([withCommand], request(), registry, true);
  });

  void test('withRunPolicy gives a registered command the timeout and attempts of its manifest', () => {
    const planned = withRunPolicy(spec({ timeout: '2 hours', max_attempts: 3 }), registry);
    assert.deepEqual([planned.timeout, planned.max_attempts], ['1 minute', 1]);
    const own = spec({ analysis_name: 'Own', command: ['x'], timeout: '2 hours' });
    assert.equal(withRunPolicy(own, registry), own);
  });
});
