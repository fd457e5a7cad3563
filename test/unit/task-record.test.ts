import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  checkedFileList,
  recordedStatus,
  resultFilesOf,
  runResultFiles,
  type EarlierRunResult,
  type RunResult,
} from '../../src/task-record';

const facts = {
  workerQueue: 'q',
  workDir: '/tmp/w',
  outputs: {},
  code: {},
  worker_host: 'h',
  started_at: '2026-12-01T10:00:00.000Z',
  finished_at: '2026-12-01T10:00:01.000Z',
};

describe('task-record', () => {
  test('recordedStatus is changed_code only when both commits are known and differ', () => {
    assert.equal(recordedStatus('c1', 'c2'), 'changed_code');
    assert.equal(recordedStatus('c1', 'c1'), 'done');
    assert.equal(recordedStatus(undefined, 'c2'), 'done');
    assert.equal(recordedStatus('c1', undefined), 'done');
    assert.equal(recordedStatus(undefined, undefined), 'done');
  });

  test('resultFilesOf stands for a list in a fixed size: its length and a sha256 of its order too', () => {
    const many = Array.from({ length: 10_000 }, (_, i) => `store.zarr/0.${i}`);
    const stood = resultFilesOf(many);
    assert.equal(stood.count, 10_000);
    assert.match(stood.sha256, /^[0-9a-f]{64}$/);
    assert.ok(JSON.stringify(stood).length < 100);
    assert.notEqual(resultFilesOf(['a', 'b']).sha256, resultFilesOf(['b', 'a']).sha256);
    assert.notEqual(resultFilesOf(['a,b']).sha256, resultFilesOf(['a', 'b']).sha256);
  });

  test('runResultFiles reads a run result of either shape', () => {
    const now: RunResult = { ...facts, result_files: resultFilesOf(['x.txt']) };
    const earlier: EarlierRunResult = { ...facts, files: ['x.txt'] };
    assert.deepEqual(runResultFiles(now), resultFilesOf(['x.txt']));
    assert.deepEqual(runResultFiles(earlier), resultFilesOf(['x.txt']));
  });

  test('checkedFileList takes only what a listing of a results folder gives', () => {
    assert.deepEqual(checkedFileList(['a.txt', 'store.zarr/.zgroup', 'x y/é']), [
      'a.txt',
      'store.zarr/.zgroup',
      'x y/é',
    ]);
    assert.deepEqual(checkedFileList([]), []);
    for (const bad of [
      'a.txt',
      [1],
      ['/etc/passwd'],
      ['../up'],
      ['a/../../up'],
      ['a/./b'],
      ['a//b'],
      ['a/'],
      [''],
      ['a\0b'],
      ['same', 'same'],
    ])
      assert.equal(checkedFileList(bad), undefined, JSON.stringify(bad));
  });
});
