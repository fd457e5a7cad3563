import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cut } from '../../src/storage/request-store';

describe('storage/request-store cut', () => {
  test('parts of at most the size, joined back to the text', () => {
    const text = 'abcdefghij';
    assert.deepEqual(cut(text, 4), ['abcd', 'efgh', 'ij']);
    assert.deepEqual(cut('', 4), ['']);
    assert.equal(cut('x'.repeat(9_000), 4_096).length, 3);
  });

  test('a surrogate pair is never split between two parts', () => {
    const text = `ab${'\u{1f600}'}c${'\u{1f600}'}`;
    const parts = cut(text, 3);
    assert.equal(parts.join(''), text);
    for (const part of parts) assert.equal(part, Buffer.from(part, 'utf8').toString('utf8'), part);
  });
});
