import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { downloadInputs, localInputPaths, readObject } from '../../src/analysis/inputs';
import { fakeS3 } from '../fixtures/fake-s3';

void describe('analysis/inputs', () => {
  void test('an input that is not s3://bucket/key fails for good', () => {
    for (const url of ['https://bucket/a', 's3://bucket', 's3://bucket/']) {
      assert.throws(
        () => localInputPaths([url]),
        (err: Error & { type?: string; nonRetryable?: boolean }) =>
          err.type === 'InvalidInput' &&
          err.nonRetryable === true &&
          /Not an s3:\/\/bucket\/key URL/.test(err.message),
        url,
      );
    }
  });

  void test('localInputPaths keeps as few trailing segments as keep the names distinct', () => {
    assert.deepEqual(localInputPaths(['s3://b/a1/licks.json', 's3://b/a1/units.csv']), [
      'licks.json',
      'units.csv',
    ]);
    assert.deepEqual(localInputPaths(['s3://b/a1/behavior/licks.json', 's3://b/a2/behavior/licks.json']), [
      'a1/behavior/licks.json',
      'a2/behavior/licks.json',
    ]);
    assert.deepEqual(localInputPaths(['s3://b/../x', 's3://c/../x']), ['b/_/x', 'c/_/x']);
  });

  void test('readObject and downloadInputs fetch objects through the client', async () => {
    const { client } = fakeS3({ 's3://b/a1/x.json': '{"a":1}', 's3://b/a2/x.json': '{"a":2}' });
    assert.equal((await readObject(client, 's3://b/a1/x.json')).toString(), '{"a":1}');
    const dir = await mkdtemp(join(tmpdir(), 'inputs-'));
    try {
      const inputs = await downloadInputs(
        client,
        ['s3://b/a1/x.json', 's3://b/a2/x.json', 's3://b/a1/x.json'],
        dir,
      );
      assert.deepEqual(inputs, [
        { s3_url: 's3://b/a1/x.json', path: 'a1/x.json' },
        { s3_url: 's3://b/a2/x.json', path: 'a2/x.json' },
      ]);
      assert.equal(await readFile(join(dir, 'a2', 'x.json'), 'utf8'), '{"a":2}');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
