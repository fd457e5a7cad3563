import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { recordedStatus } from '../../src/task-record';
describe('task-record', () => {
  test('recordedStatus is changed_code only when both commits are known and differ', () => {
    assert.equal(recordedStatus('c1', 'c2'), 'changed_code');
    assert.equal(recordedStatus('c1', 'c1'), 'done');
    assert.equal(recordedStatus(undefined, 'c2'), 'done');
    assert.equal(recordedStatus('c1', undefined), 'done');
    assert.equal(recordedStatus(undefined, undefined), 'done');
  });
});
