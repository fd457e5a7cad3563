import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildRecord, recordedStatus, type RunResult } from '../../src/task-record';
import type { Task } from '../../src/types';

const task: Task = {
  hash: 'a'.repeat(64),
  analysis: {
    analysis_name: 'Unit Yield',
    analysis_version: 'v1',
    analysis_libraries: [],
    analysis_parameters: {},
    s3_output_bucket: 'results',
  },
  parameters: { isi_violations: 0.5 },
  input: { s3_location: ['s3://data/a1'], asset_name: ['a1'], docdb_record_id: ['id1'], file_location: [] },
  libraries: {},
  location: `s3://results/${'a'.repeat(64)}`,
};

const run: RunResult = {
  workerQueue: 'analysis@host',
  workDir: '/tmp/work',
  outputs: { passing: 3 },
  files: ['outputs.json'],
  code: { commit: 'c1' },
  worker_host: 'host',
  started_at: '2024-01-01T00:00:00.000Z',
  finished_at: '2024-01-01T00:00:01.000Z',
};

describe('task-record', () => {
  test('buildRecord takes everything from the task and its run, nothing from the worker', () => {
    const record = buildRecord(task, run, 'd1');
    assert.equal(record._id, task.hash);
    assert.equal(record.location, task.location);
    assert.equal(record.dispatch_id, 'd1');
    assert.deepEqual(record.outputs, run.outputs);
    assert.ok(!('workDir' in record) && !('workerQueue' in record));
    assert.deepEqual(buildRecord(task, run, 'd1'), record);
  });

  test('recordedStatus is changed_code only when both commits are known and differ', () => {
    assert.equal(recordedStatus('c1', 'c2'), 'changed_code');
    assert.equal(recordedStatus('c1', 'c1'), 'done');
    assert.equal(recordedStatus(undefined, 'c2'), 'done');
    assert.equal(recordedStatus('c1', undefined), 'done');
    assert.equal(recordedStatus(undefined, undefined), 'done');
  });
});
