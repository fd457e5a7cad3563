import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { unstorableKey } from '../../src/storage/record-keys';

describe('storage/record-keys', () => {
  test('unstorableKey finds the first key with a dot or a leading $, at any depth, with where it is', () => {
    assert.equal(unstorableKey({ a: { b: [1, { c: 'x.y', $d: undefined }] } })?.key, '$d');
    assert.deepEqual(unstorableKey({ out: [{ ok: 1 }, { 'a.b': 1 }] }), { key: 'a.b', path: 'out[1]' });
    assert.deepEqual(unstorableKey({ $set: 1 }), { key: '$set', path: '(top level)' });
    assert.equal(unstorableKey({ a$: 1, values: ['a.b', '$x'], at: new Date(0) }), undefined);
  });
});
