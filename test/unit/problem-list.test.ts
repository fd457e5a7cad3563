import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { compileSchema } from '../../src/analysis/json-schema';
import { capMessage, listProblems, MESSAGE_CHARS, PROBLEMS_LISTED } from '../../src/problem-list';
import { formatIssues } from '../../src/zod-issues';

describe('problem-list', () => {
  test('listProblems names the first problems and counts the rest', () => {
    assert.equal(listProblems(['a', 'b']), 'a; b');
    const many = Array.from({ length: PROBLEMS_LISTED + 3 }, (_, i) => `p${i}`);
    const listed = listProblems(many);
    assert.ok(listed.startsWith('p0; p1; '));
    assert.ok(listed.endsWith(`p${PROBLEMS_LISTED - 1}; and 3 more problems`), listed);
    assert.equal(
      listProblems([...many.slice(0, PROBLEMS_LISTED), 'x']).endsWith('; and 1 more problem'),
      true,
    );
  });

  test('capMessage keeps a message whole up to the cap, and says how much it left out', () => {
    assert.equal(capMessage('short'), 'short');
    const long = 'x'.repeat(MESSAGE_CHARS + 500);
    assert.equal(capMessage(long), `${'x'.repeat(MESSAGE_CHARS)}… (500 more characters)`);
    // A character outside the BMP is not cut in half.
    assert.equal(capMessage('ab😀cd', 3), 'ab… (4 more characters)');
    assert.ok(listProblems(['y'.repeat(3 * MESSAGE_CHARS)]).length < MESSAGE_CHARS + 40);
  });

  test('a zod parse with thousands of problems gives a bounded message', () => {
    const result = z.array(z.number()).safeParse(Array.from({ length: 5_000 }, () => 'x'));
    assert.ok(!result.success);
    const message = formatIssues(result.error.issues);
    assert.match(message, /^\[0\]: .*; and 4990 more problems$/);
    const unknown = z
      .strictObject({})
      .safeParse(Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 1])));
    assert.ok(!unknown.success);
    assert.match(formatIssues(unknown.error.issues), /^unknown fields "k0", .*"k9", and 40 more fields$/);
  });

  test('a JSON Schema check with thousands of problems gives a bounded message', () => {
    const check = compileSchema({ type: 'array', items: { type: 'number' } });
    const result = check(Array.from({ length: 5_000 }, () => 'x'));
    assert.ok(!result.ok);
    assert.match(result.problems, /; and 4990 more problems$/);
    assert.ok(result.problems.length < 1_000);
  });
});
