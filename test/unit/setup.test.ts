import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { cloudSteps, isTemporalCloud } from '../../src/client/setup';
import { unknownSearchAttribute } from '../../src/temporal';
import { PROJECT_SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes';

const ROOT = join(__dirname, '..', '..');

describe('setup', () => {
  test('Temporal Cloud is told by its hosts or an API key', () => {
    assert.ok(isTemporalCloud('analysis.a1b2c.tmprl.cloud:7233', undefined));
    assert.ok(isTemporalCloud('us-west-2.aws.api.temporal.io:7233', undefined));
    assert.ok(isTemporalCloud('temporal.internal:7233', 'key'));
    assert.ok(!isTemporalCloud('127.0.0.1:7233', undefined));
    assert.ok(!isTemporalCloud('temporal.institute.org:7233', undefined));
    assert.ok(!isTemporalCloud('tmprl.cloud.example.org:7233', undefined));
  });

  test('the Cloud steps name the namespace and exactly the missing attributes, as tcld takes them', () => {
    const steps = cloudSteps('analysis.a1b2c', ['DispatchId', 'RetryOf'], false);
    assert.match(steps, /^ {2}tcld namespace search-attributes add --namespace analysis\.a1b2c \\$/m);
    assert.match(steps, /^ {4}--search-attribute "DispatchId=Keyword" \\$/m);
    assert.match(steps, /^ {4}--search-attribute "RetryOf=Keyword"$/m);
    assert.doesNotMatch(steps, /AnalysisName/);
    assert.match(steps, /Custom Search Attributes/);
    assert.doesNotMatch(steps, /Create Namespace/);
    assert.match(cloudSteps('analysis.a1b2c', [], true), /does not exist.*\n.*tcld namespace create/);
  });

  test('the dev server registers the same search attributes at its start', () => {
    const script = readFileSync(join(ROOT, 'temporal-dev.sh'), 'utf8');
    const line = /^SEARCH_ATTRIBUTES=\((.*)\)$/m.exec(script);
    assert.ok(line, 'temporal-dev.sh has a SEARCH_ATTRIBUTES line');
    assert.deepEqual(
      line[1]!.split(/\s+/).sort(),
      PROJECT_SEARCH_ATTRIBUTES.map((key) => `${key.name}=Keyword`).sort(),
    );
    for (const key of PROJECT_SEARCH_ATTRIBUTES) assert.equal(key.type, 'KEYWORD');
  });

  test("a server's refusal of an unknown search attribute is recognised, also as a cause", () => {
    // As Temporal 1.32 words them: a start on SQL visibility, the frontend's check, a query.
    const start = new Error('Namespace probe has no mapping defined for search attribute DispatchId');
    assert.equal(unknownSearchAttribute(start), 'DispatchId');
    assert.equal(unknownSearchAttribute(new Error('search attribute RetryOf is not defined')), 'RetryOf');
    const query = new Error('invalid query: invalid search attribute: AnalysisName');
    assert.equal(unknownSearchAttribute(new Error('failed', { cause: query })), 'AnalysisName');
    assert.equal(unknownSearchAttribute(new Error('Namespace default is not found')), undefined);
    assert.equal(unknownSearchAttribute('not an error'), undefined);
  });
});
