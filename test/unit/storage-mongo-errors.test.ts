import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MongoServerError } from 'mongodb';
import { DUPLICATE_KEY, isDuplicateKey, isRejectedDocument } from '../../src/storage/mongo-errors';

const serverError = (code: number) => new MongoServerError({ message: `error ${code}`, code });

describe('storage/mongo-errors', () => {
  test('isDuplicateKey recognises only the server duplicate-key error', () => {
    assert.ok(isDuplicateKey(serverError(DUPLICATE_KEY)));
    assert.ok(!isDuplicateKey(serverError(2)));
    assert.ok(!isDuplicateKey(Object.assign(new Error('dup'), { code: DUPLICATE_KEY })));
  });

  test('isRejectedDocument recognises answers about the document itself', () => {
    for (const code of [2, 14, 10334, 17280]) assert.ok(isRejectedDocument(serverError(code)), String(code));
    assert.ok(!isRejectedDocument(serverError(DUPLICATE_KEY)));
    assert.ok(!isRejectedDocument(new Error('network')));
  });
});
