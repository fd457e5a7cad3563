import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadSpecs } from '../../src/request/spec';
import { UpstreamIndex, upstreamParameters } from '../../src/planning/upstream';
import type { StoredRecord, Task } from '../../src/types';
import { makeTask } from '../fixtures/tasks';

const code = { url: 'https://codeocean.example.org/capsule/7', version: '1.0' };

function task(fields: Partial<Task> = {}, spec: Record<string, unknown> = {}): Task {
  return makeTask(
    { analysis_name: 'Unit Filtering', upstream_code: code, ...spec },
    {
      parameters: { cutoff: 0.8, tag: 'V1' },
      input: {
        s3_location: ['s3://data/a', 's3://data/b'],
        asset_name: ['a', 'b'],
        docdb_record_id: ['1', '2'],
        file_location: [],
      },
      ...fields,
    },
  );
}

/** A record as the wrapper writes one, reduced to what the match reads. */
function wrapperRecord(id: string, fields: Record<string, unknown> = {}): StoredRecord {
  return {
    _id: id,
    processing: {
      data_processes: [
        {
          code: {
            url: code.url,
            version: code.version,
            input_data: [
              { object_type: 'Data asset', name: null, url: 's3://data/b' },
              { object_type: 'Data asset', name: null, url: 's3://data/a' },
            ],
            parameters: { tag: 'V1', analysis_name: 'Unit Filtering', cutoff: 0.8 },
            ...fields,
          },
        },
      ],
    },
  } as unknown as StoredRecord;
}

function matched(tasks: Task[], records: StoredRecord[]): Array<string | undefined> {
  const index = new UpstreamIndex(tasks);
  for (const record of records) index.add(record);
  return tasks.map((entry) => index.recordOf(entry));
}

void describe('records of the wrapper code a spec names', () => {
  void test('the same code, inputs and parameters match in any order', () => {
    assert.deepEqual(matched([task()], [wrapperRecord('w1')]), ['w1']);
  });

  void test('another code version or URL, other parameters or other inputs do not', () => {
    const records = [
      wrapperRecord('version', { version: '2.0' }),
      wrapperRecord('url', { url: 'https://codeocean.example.org/capsule/8' }),
      wrapperRecord('parameters', {
        parameters: { tag: 'V1', analysis_name: 'Unit Filtering', cutoff: 0.5 },
      }),
      wrapperRecord('no name', { parameters: { tag: 'V1', cutoff: 0.8 } }),
      wrapperRecord('inputs', { input_data: [{ url: 's3://data/a' }] }),
      wrapperRecord('more inputs', {
        input_data: [{ url: 's3://data/a' }, { url: 's3://data/b' }, { url: 's3://data/c' }],
      }),
    ];
    assert.deepEqual(matched([task()], records), [undefined]);
  });

  void test('a spec without upstream_code reads no wrapper records', () => {
    const plain = task({}, { upstream_code: undefined });
    const index = new UpstreamIndex([plain]);
    assert.equal(index.filter, undefined);
    index.add(wrapperRecord('w1'));
    assert.equal(index.recordOf(plain), undefined);
  });

  void test('a per-file task matches the record whose parameters hold its file', () => {
    const file = 's3://data/a/units.csv';
    const perFile = task({
      input: {
        s3_location: ['s3://data/a'],
        asset_name: ['a'],
        docdb_record_id: ['1'],
        file_location: [file],
      },
    });
    assert.deepEqual(upstreamParameters(perFile), {
      analysis_name: 'Unit Filtering',
      cutoff: 0.8,
      tag: 'V1',
      file_location: [file],
    });
    const inputs = { input_data: [{ url: 's3://data/a' }] };
    const wholeAsset = wrapperRecord('asset', inputs);
    const ofFile = wrapperRecord('file', {
      ...inputs,
      parameters: { tag: 'V1', analysis_name: 'Unit Filtering', cutoff: 0.8, file_location: [file] },
    });
    assert.deepEqual(matched([perFile], [wholeAsset, ofFile]), ['file']);
  });

  void test('an analysis_name among the parameters is the one compared', () => {
    const named = task({ parameters: { cutoff: 0.8, tag: 'V1', analysis_name: 'Units V2' } });
    const record = wrapperRecord('v2', { parameters: { tag: 'V1', analysis_name: 'Units V2', cutoff: 0.8 } });
    assert.deepEqual(matched([named, task()], [record, wrapperRecord('w1')]), ['v2', 'w1']);
  });

  void test('the filter asks for the named code versions only, one clause each', () => {
    const other = { url: code.url, version: '2.0' };
    const index = new UpstreamIndex([task(), task({}, { upstream_code: other }), task({ hash: 'x' })]);
    assert.deepEqual(index.filter, {
      $or: [
        {
          'processing.data_processes.0.code.url': code.url,
          'processing.data_processes.0.code.version': '1.0',
        },
        {
          'processing.data_processes.0.code.url': code.url,
          'processing.data_processes.0.code.version': '2.0',
        },
      ],
    });
  });

  void test('a spec entry with upstream_code missing its url or version is refused by name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'upstream-spec-'));
    const path = join(dir, 'spec.json');
    const entry = {
      analysis_name: 'Unit Filtering',
      analysis_version: 'v1',
      s3_output_bucket: 'results-bucket',
    };
    writeFileSync(path, JSON.stringify([{ ...entry, upstream_code: { url: code.url, version: '' } }]));
    assert.throws(
      () => loadSpecs(path),
      /entry 0 \(Unit Filtering\): upstream_code\.version: must not be empty/,
    );
    writeFileSync(path, JSON.stringify([{ ...entry, upstream_code: { version: '1.0', extra: 1 } }]));
    assert.throws(
      () => loadSpecs(path),
      /entry 0 \(Unit Filtering\): upstream_code\.url: is required; entry 0 \(Unit Filtering\): upstream_code: unknown field "extra"/,
    );
    writeFileSync(path, JSON.stringify([{ ...entry, upstream_code: code }]));
    assert.deepEqual(loadSpecs(path)[0]?.upstream_code, code);
  });
});
