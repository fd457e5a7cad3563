import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { downloadInputs, localInputPaths, readObject } from '../../src/analysis/inputs';
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { fakeS3 } from '../fixtures/fake-s3';

/** GetObject and ListObjectsV2 (two keys a page, so paging is exercised) over objects in memory. */
function listingS3(objects: Record<string, string>): S3Client {
  const send = async (command: { constructor: { name: string }; input: Record<string, string> }) => {
    const { Bucket, Key, Prefix = '', ContinuationToken } = command.input;
    if (command.constructor.name === 'ListObjectsV2Command') {
      const keys = Object.keys(objects)
        .map((url) => url.slice(`s3://${Bucket}/`.length))
        .filter((key) => key.startsWith(Prefix))
        .sort();
      const start = Number(ContinuationToken ?? 0);
      const more = start + 2 < keys.length;
      return {
        Contents: keys.slice(start, start + 2).map((key) => ({ Key: key })),
        IsTruncated: more,
        NextContinuationToken: more ? String(start + 2) : undefined,
      };
    }
    const content = objects[`s3://${Bucket}/${Key}`];
    if (content === undefined) throw Object.assign(new Error(`NoSuchKey: ${Key}`), { name: 'NoSuchKey' });
    return { Body: Readable.from([Buffer.from(content)]) };
  };
  return { send } as unknown as S3Client;
}

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

  void test('a folder input (a zarr store) is downloaded whole, at its path inside the folder', async () => {
    const client = listingS3({
      's3://b/a1/x.nwb.zarr/.zattrs': '{}',
      's3://b/a1/x.nwb.zarr/acquisition/': '',
      's3://b/a1/x.nwb.zarr/acquisition/0.0': 'chunk0',
      's3://b/a1/x.nwb.zarr/acquisition/0.1': 'chunk1',
      's3://b/a1/x.nwb.zarr/../escape': 'kept inside',
      's3://b/a1/x.nwb.zarr.bak': 'not part of it',
      's3://b/a1/units.csv': 'u',
      's3://b/a2/y.zarr/0': 'y0',
    });
    const dir = await mkdtemp(join(tmpdir(), 'inputs-'));
    try {
      const inputs = await downloadInputs(
        client,
        ['s3://b/a1/x.nwb.zarr', 's3://b/a1/units.csv', 's3://b/a2/y.zarr/'],
        dir,
      );
      assert.deepEqual(inputs, [
        { s3_url: 's3://b/a1/x.nwb.zarr', path: 'x.nwb.zarr' },
        { s3_url: 's3://b/a1/units.csv', path: 'units.csv' },
        { s3_url: 's3://b/a2/y.zarr/', path: 'y.zarr' },
      ]);
      const zarr = join(dir, 'x.nwb.zarr');
      assert.deepEqual((await readdir(zarr, { recursive: true })).sort(), [
        '.zattrs',
        '_',
        '_/escape',
        'acquisition',
        'acquisition/0.0',
        'acquisition/0.1',
      ]);
      assert.equal(await readFile(join(zarr, 'acquisition', '0.1'), 'utf8'), 'chunk1');
      assert.equal(await readFile(join(dir, 'y.zarr', '0'), 'utf8'), 'y0');
      assert.deepEqual((await readdir(dir)).sort(), ['units.csv', 'x.nwb.zarr', 'y.zarr']);
      await assert.rejects(downloadInputs(client, ['s3://b/a1/nothing'], dir), /NoSuchKey/);
      await assert.rejects(downloadInputs(client, ['s3://b/a1/nothing/'], dir), /No objects under/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
