import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { analysisTask, groupMetadata } from '../../src/aind/dispatch-model';
import {
  analysisCode,
  buildRecord,
  METADATA_SCHEMA_VERSION,
  type RunFacts,
  PROCESSING_SCHEMA_VERSION,
  recordFacts,
} from '../../src/aind/metadata';
import { inputDigest } from '../../src/input-digest';
import type { Task } from '../../src/types';
import { aindErrors } from '../helpers/aind';

const task: Task = {
  hash: 'f'.repeat(64),
  analysis: {
    analysis_name: 'Lick Rate',
    analysis_version: 'v2',
    analysis_libraries: [],
    analysis_parameters: {},
    s3_output_bucket: 'results',
    command: ['python3', 'analyses/lick_rate.py'],
  },
  parameters: { window_s: 5, bins: [1, 2, 3] },
  input: {
    s3_location: ['s3://data/s1', 's3://data/s2'],
    asset_name: ['s1', 's2'],
    docdb_record_id: ['id1', 'id2'],
    file_location: ['s3://data/s1/licks.json'],
  },
  libraries: {},
  group: { 'subject.subject_id': '741213' },
  distributed_parameters: { window_s: 5 },
  query: '{"subject.subject_id":"741213"}',
  experimenters: ['Ada Lovelace'],
  location: `s3://results/${'f'.repeat(64)}`,
};

const files = ['outputs.json', 'rate.csv'];

const run: RunFacts = {
  workerQueue: 'q',
  workDir: '/tmp/w',
  outputs: { licks: 12, rate_hz: 1.5 },
  code: { repository: 'https://github.com/example/analyses.git', commit: 'a1b2c3d4e5f6', dirty: false },
  worker_host: 'host',
  started_at: '2026-12-01T10:00:00.000Z',
  finished_at: '2026-12-01T10:00:04.000Z',
  software: {
    url: 'https://github.com/example/analyses.git',
    run_script: 'python3 analyses/lick_rate.py',
    language: 'Python',
    language_version: 'Python 3.11.7',
  },
  machine: { os: 'linux 6.1', architecture: 'x64', cpu: 'CPU', cpu_cores: 2, system_memory_gib: 24 },
  resources: { wall_time_s: 4, cpu_time_s: 2, peak_memory_mib: 120 },
  worker_user: 'worker',
};

describe('aind metadata', () => {
  test("a record validates as the institute's Metadata and holds what their queries read", () => {
    const record = buildRecord(task, run, 'd1', files);
    assert.deepEqual(aindErrors('Metadata', [record]), [[]]);
    assert.equal(record.schema_version, METADATA_SCHEMA_VERSION);
    assert.equal(record.processing.schema_version, PROCESSING_SCHEMA_VERSION);
    const process = record.processing.data_processes[0]!;
    assert.equal(process.code.parameters?.analysis_name, 'Lick Rate');
    assert.equal(process.code.parameters?.analysis_version, 'v2');
    assert.equal(process.code.parameters?.window_s, 5);
    assert.equal(process.code.commit_hash, 'a1b2c3d4e5f6');
    assert.deepEqual(
      process.code.input_data?.map((asset) => asset.url),
      ['s3://data/s1', 's3://data/s2'],
    );
    assert.deepEqual(process.experimenters, ['Ada Lovelace']);
    assert.match(
      process.notes ?? '',
      /Dispatch d1: assets selected by the query \{"subject.subject_id":"741213"\}/,
    );
    assert.equal(record.location, task.location);
    assert.equal(record.name, task.hash);
  });

  test('a run of an earlier version (no facts measured) still gives a valid record with someone in it', () => {
    const { software: _s, machine: _m, resources: _r, worker_user: _u, ...bare } = run;
    const { experimenters: _e, query: _q, ...older } = task;
    const record = buildRecord(older, { ...bare, code: { commit: 'not a hash' } }, 'd1', files);
    assert.deepEqual(aindErrors('Metadata', [record]), [[]]);
    const process = record.processing.data_processes[0]!;
    assert.deepEqual(process.experimenters, ['unknown']);
    assert.equal(process.code.commit_hash, undefined, 'only a hexadecimal commit is a commit_hash');
    assert.match(process.notes ?? '', /assets listed in a CSV/);
  });

  test("a task's input fingerprints sit at the top level of a valid record, with their digest", () => {
    const input_fingerprints = [
      { url: 's3://data/s1/licks.json', size: 120, etag: '9b2cf535f27731c974343645a3985328' },
      { url: 's3://data/s2', size: 210, objects: 3, digest: 'a'.repeat(64) },
    ];
    const record = buildRecord({ ...task, input_fingerprints, replace_record: true }, run, 'd1', files);
    assert.deepEqual(aindErrors('Metadata', [record]), [[]]);
    assert.deepEqual(record.input_fingerprints, input_fingerprints);
    assert.equal(record.input_digest, inputDigest(input_fingerprints));
    assert.doesNotMatch(JSON.stringify(record.processing), /fingerprint|digest|replace_record/);
    assert.equal(buildRecord(task, run, 'd1', files).input_digest, undefined);
  });

  test('a record lists every result file, in the fields and order of earlier versions', () => {
    // A copy of the record uploaded by a worker of an earlier version is recognised by comparing
    // its text with the record built now: the order of the fields is part of it.
    const record = buildRecord(task, run, 'd1', files);
    assert.deepEqual(Object.keys(record), [
      '_id',
      'object_type',
      'schema_version',
      'name',
      'location',
      'processing',
      'analysis_name',
      'analysis_version',
      'input',
      'code',
      'libraries',
      'dispatch_id',
      'worker_host',
      'files',
      'run_resources',
    ]);
    assert.deepEqual(record.files, files);
  });

  test('the validator refuses what the schema forbids, naming the field', () => {
    const record = buildRecord(task, run, 'd1', files);
    const broken = structuredClone(record) as unknown as {
      processing: { data_processes: Array<Record<string, unknown>> };
    };
    broken.processing.data_processes[0]!.wall_time = 4;
    const [errors] = aindErrors('Metadata', [broken]);
    assert.ok(
      errors?.some((error) => error.includes('data_processes.0.wall_time')),
      String(errors),
    );
  });

  test('recordFacts reads parameters, outputs and times from both record formats alike', () => {
    const facts = recordFacts(buildRecord(task, run, 'd1', files));
    assert.deepEqual(facts.parameters, task.parameters);
    assert.deepEqual(facts.outputs, run.outputs);
    assert.equal(facts.started_at, run.started_at);
    assert.deepEqual(facts.resources, run.resources);
  });
});

describe('aind dispatch model', () => {
  test('the task an analysis receives loads as the upstream AnalysisDispatchModel', () => {
    const received = analysisTask(task, analysisCode(task, run.software, run.code.commit));
    assert.deepEqual(aindErrors('AnalysisDispatchModel', [received]), [[]]);
    assert.deepEqual(received.group_metadata, { subject__subject_id: '741213' });
    assert.deepEqual(received.distributed_parameters, { window_s: 5 });
    assert.equal(received.query, task.query);
    assert.equal(received.analysis_code.parameters?.analysis_name, 'Lick Rate');
    assert.deepEqual(received.parameters, task.parameters, "the project's own fields stay");
  });

  test('whole-asset tasks have no file_location, ungrouped ones no group_metadata', () => {
    const received = analysisTask(
      { ...task, input: { ...task.input, file_location: [] }, group: undefined },
      analysisCode(task),
    );
    assert.equal(received.file_location, null);
    assert.equal(received.group_metadata, null);
    assert.equal(groupMetadata({ 'a.b.c': 1, d: 2 })?.a__b__c, 1);
    assert.deepEqual(aindErrors('AnalysisDispatchModel', [received]), [[]]);
  });
});
