import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { formatIssue, formatIssues, formatPath } from '../../src/zod-issues';

const issuesOf = (schema: z.ZodType, value: unknown) => {
  const result = schema.safeParse(value);
  assert.ok(!result.success);
  return result.error.issues;
};

describe('zod-issues', () => {
  test('formatPath writes keys dotted and indexes in brackets', () => {
    assert.equal(formatPath(['analysis_parameters', 'window', 2]), 'analysis_parameters.window[2]');
    assert.equal(formatPath([0, 'name']), '[0].name');
    assert.equal(formatPath([]), '');
  });

  test('formatIssue names the field, or gives the message alone for the whole value', () => {
    const [field] = issuesOf(z.object({ a: z.number() }), { a: 'x' });
    assert.match(formatIssue(field!), /^a: .*expected number/);
    assert.match(formatIssue(field!, ['b', 1]), /^b\[1\]: /);
    const [whole] = issuesOf(z.number(), 'x');
    assert.match(formatIssue(whole!), /^Invalid input: expected number/);
  });

  test('formatIssue lists unknown fields by name', () => {
    const [issue] = issuesOf(z.strictObject({}), { a: 1, b: 2 });
    assert.equal(formatIssue(issue!), 'unknown fields "a", "b"');
  });

  test('formatIssues joins every issue on one line', () => {
    const issues = issuesOf(z.object({ a: z.number(), b: z.string() }), {});
    assert.match(formatIssues(issues), /^a: .+; b: .+$/);
  });
});
