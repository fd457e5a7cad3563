import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { canonicalJson, checkTaskIdentity, identityHash, taskIdentityHashes } from '../../src/identity';
import { expandTasks } from '../../src/planning/expand';
import { makeTask } from '../fixtures/tasks';

describe('identity', () => {
  test('canonicalJson ignores key order and undefined values', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: undefined } }),
      '{"a":{"d":[1,{"x":1,"y":2}]},"b":1}',
    );
  });

  test('tasks keep the identity hashes earlier versions gave them, so their records stay done', () => {
    const { tasks } = expandTasks({
      assets: [
        { id: 'a1', name: 'a1', location: 's3://data/a1', doc: {} },
        { id: 'a2', name: 'a2', location: 's3://data/a2', doc: {} },
      ],
      files: new Map([
        ['s3://data/a1', ['s3://data/a1/x.csv']],
        ['s3://data/a2', ['s3://data/a2/y.csv']],
      ]),
      request: {
        file_extension: '.csv',
        split_files: true,
        group_by: [],
        specs: [
          {
            analysis_name: 'Unit Yield',
            analysis_version: 'v1',
            analysis_libraries: [],
            analysis_parameters: { isi: 0.5 },
            s3_output_bucket: 'out/p',
          },
        ],
        fixed_parameters: { f: 1 },
        distributed_parameters: [{ d: 1 }, { d: 2 }],
      },
      libraries: [{ zod: '4.0.0' }],
    });
    // Computed by the version before records took the aind-data-schema format (64d4e00).
    assert.deepEqual(
      tasks.map((task) => task.hash),
      [
        '84ce66bb04085dc8246fd4a912e91fee2c062ffb29fcb19178b79e5f4bc92cb2',
        '7c12f580ba620281e3ddc83f610ee497e7906f8fd8ad157683e5d3e3a3a7f1b8',
        '70476d82978a3c5e2eaf8210ea53f18433239a7956730700a94a4474fc927518',
        '3c7b4c55bb5d96690b292843e81b51c36a76193b2bc63c6b946ceea99871ec05',
      ],
    );
  });

  test('an asset unwound into two groups gives two tasks; every task that could have a record keeps its hash', () => {
    const spec = {
      analysis_name: 'Unit Yield',
      analysis_version: 'v1',
      analysis_libraries: [],
      analysis_parameters: {},
      s3_output_bucket: 'out/p',
    };
    const { tasks, warnings } = expandTasks({
      assets: [
        { id: 'a1', name: 'a1', location: 's3://data/a1', doc: { subject: [{ id: 's1' }, { id: 's2' }] } },
        { id: 'a2', name: 'a2', location: 's3://data/a2', doc: { subject: [{ id: 's1' }] } },
        { id: 'a3', name: 'a3', location: 's3://data/a3', doc: { subject: [{ id: 's3' }, { id: 's4' }] } },
      ],
      request: {
        split_files: true,
        group_by: ['subject.id'],
        unwind_list_fields: ['subject'],
        drop_null_groups: true,
        // The same spec twice: true duplicates are still planned once.
        specs: [spec, spec],
        fixed_parameters: {},
        distributed_parameters: [],
      } as never,
      libraries: [{}, {}],
    });
    assert.deepEqual(
      tasks.map((task) => [task.group?.['subject.id'], task.input.docdb_record_id.join('+'), task.hash]),
      [
        // Computed by the version before groups could join the identity (0e5d123): unchanged.
        ['s1', 'a1+a2', '487e998820a9f0a9eba373105f11c4a7c03eb4a499cf3c2a69486b317f0a81e5'],
        ['s2', 'a1', '266cbfc0906ba8e1897ce992c09d58daf2f0fdd0dd0a42e89beba2724af636f2'],
        ['s3', 'a3', '05be1ec4e7af5dfd1692602b8fd4cff3b9407ec81fe7599bcaf7ac46f53a4344'],
        // That version planned s4 as a duplicate of s3, one task, one record for both groups.
        ['s4', 'a3', identityHash(tasks[3]!, { 'subject.id': 's4' })],
      ],
    );
    assert.notEqual(tasks[3]!.hash, tasks[2]!.hash);
    assert.match(warnings.join('\n'), /4 duplicate tasks/);
    for (const task of tasks) assert.ok(taskIdentityHashes(task).includes(task.hash), task.hash);
    assert.equal(identityHash(tasks[0]!, {}), tasks[0]!.hash, 'no values, no change');
  });

  test('checkTaskIdentity passes a planned task and refuses one whose hash, location or bucket was edited', () => {
    const task = makeTask({ analysis_name: 'Noop', s3_output_bucket: 'out/2026' }, { parameters: { k: 1 } });
    checkTaskIdentity(task);
    checkTaskIdentity({ ...task, location: `${task.location}/` });
    const refused = (edited: unknown, pattern: RegExp) =>
      assert.throws(
        () => checkTaskIdentity(edited as typeof task),
        (err) =>
          err instanceof ApplicationFailure &&
          err.type === 'TaskIdentityMismatch' &&
          err.nonRetryable &&
          pattern.test(err.message),
      );
    refused({ ...task, location: 's3://out' }, /its location "s3:\/\/out" is not s3:\/\/out\/2026\//);
    refused({ ...task, location: 's3://out/2026' }, /is not s3:\/\/out\/2026\//);
    refused({ ...task, parameters: { k: 2 } }, /its fields give the identity [0-9a-f]{64}/);
    refused({ ...task, hash: 'a'.repeat(64) }, /its fields give the identity/);
    refused(
      { ...task, analysis: { ...task.analysis, s3_output_bucket: 'other' } },
      /its fields give the identity/,
    );
    refused({ ...task, analysis: { ...task.analysis, s3_output_bucket: '' } }, /is not a bucket name/);
  });
});
