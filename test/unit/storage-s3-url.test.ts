import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BUCKET_PATH,
  folderPrefix,
  parseAssetLocation,
  parseS3Url,
  s3Url,
  splitBucketPath,
} from '../../src/storage/s3-url';

describe('storage/s3-url', () => {
  test('BUCKET_PATH accepts a bucket with or without a prefix, never a scheme', () => {
    for (const path of ['results', 'results/a/b', 'my.bucket-1/x/']) assert.ok(BUCKET_PATH.test(path), path);
    for (const path of ['s3://results', 'Results', 'ab', 'results/a b', '-results']) {
      assert.ok(!BUCKET_PATH.test(path), path);
    }
  });

  test('s3Url joins a bucket path and a key', () => {
    assert.equal(s3Url('results', 'abc'), 's3://results/abc');
    assert.equal(s3Url('results/2024', 'abc'), 's3://results/2024/abc');
  });

  test('parseS3Url splits bucket and key, the key possibly empty, and refuses anything else', () => {
    assert.deepEqual(parseS3Url('s3://bucket/a/b.json'), { bucket: 'bucket', key: 'a/b.json' });
    assert.deepEqual(parseS3Url('s3://bucket/a/'), { bucket: 'bucket', key: 'a/' });
    assert.deepEqual(parseS3Url('s3://bucket'), { bucket: 'bucket', key: '' });
    assert.equal(parseS3Url('https://bucket/a'), undefined);
    assert.equal(parseS3Url('bucket/a'), undefined);
  });

  test('parseAssetLocation normalises s3://bucket/prefix and refuses the rest', () => {
    assert.deepEqual(parseAssetLocation(' s3://data/a/b// '), { bucket: 'data', prefix: 'a/b' });
    assert.deepEqual(parseAssetLocation('s3://data//a'), { bucket: 'data', prefix: 'a' });
    for (const location of [
      's3://data',
      's3://data/',
      's3://Data/a',
      'gs://data/a',
      '',
      42,
      null,
      undefined,
    ]) {
      assert.equal(parseAssetLocation(location), undefined, String(location));
    }
  });

  test('splitBucketPath separates the bucket from its prefix', () => {
    assert.deepEqual(splitBucketPath('results'), { bucket: 'results', prefix: '' });
    assert.deepEqual(splitBucketPath('results/a/b/'), { bucket: 'results', prefix: 'a/b' });
  });

  test('folderPrefix ends a key with exactly one slash and leaves the empty key empty', () => {
    assert.equal(folderPrefix('a/b'), 'a/b/');
    assert.equal(folderPrefix('a/b///'), 'a/b/');
    assert.equal(folderPrefix('s3://data/a/'), 's3://data/a/');
    assert.equal(folderPrefix(''), '');
  });
});
