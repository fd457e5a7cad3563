import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { loadConfig } from '../../src/config';
import { createS3, listObjects, listObjectsAfter } from '../../src/storage/s3';

/** Lists the keys of one bucket from memory, `pageSize` keys a page, as S3 does: in byte order. */
function fakeBucket(keys: string[], pageSize: number) {
  const requests: ListObjectsV2Command['input'][] = [];
  const client = {
    async send(command: ListObjectsV2Command) {
      const input = command.input;
      requests.push(input);
      const matching = [...keys]
        .sort()
        .filter((key) => key.startsWith(input.Prefix ?? '') && key > (input.StartAfter ?? ''));
      const start = Number(input.ContinuationToken ?? 0);
      const size = Math.min(pageSize, input.MaxKeys ?? pageSize);
      return {
        Contents: matching
          .slice(start, start + size)
          .map((Key) => ({ Key, Size: Key.length, ETag: `"etag-${Key}"` })),
        IsTruncated: start + size < matching.length,
        NextContinuationToken: String(start + size),
      };
    },
  };
  return { s3: client as unknown as S3Client, requests };
}

describe('storage/s3', () => {
  test('createS3 addresses a custom endpoint path-style, AWS itself by default', async () => {
    const local = createS3(
      loadConfig({ AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:7070', AWS_REGION: 'eu-west-1' }),
    );
    const aws = createS3(loadConfig({}));
    try {
      assert.equal(local.config.forcePathStyle, true);
      assert.equal(await local.config.region(), 'eu-west-1');
      assert.equal((await local.config.endpoint?.())?.hostname, '127.0.0.1');
      assert.notEqual(aws.config.forcePathStyle, true);
      assert.equal(await aws.config.region(), 'us-east-1');
    } finally {
      local.destroy();
      aws.destroy();
    }
  });

  test('listObjects follows continuation tokens to the last page', async () => {
    const { s3, requests } = fakeBucket(['a/1', 'a/2', 'a/3', 'b/1'], 2);
    const listed = [];
    for await (const object of listObjects(s3, 'bucket', 'a/')) listed.push(object);
    assert.deepEqual(listed, [
      { key: 'a/1', size: 3 },
      { key: 'a/2', size: 3 },
      { key: 'a/3', size: 3 },
    ]);
    assert.deepEqual(
      requests.map((input) => input.ContinuationToken),
      [undefined, '2'],
    );
    assert.ok(requests.every((input) => input.Bucket === 'bucket' && input.Prefix === 'a/'));
  });

  test('listObjects of an empty prefix makes one request', async () => {
    const { s3, requests } = fakeBucket(['a/1'], 2);
    for await (const _object of listObjects(s3, 'bucket', 'z/')) assert.fail('nothing to list');
    assert.equal(requests.length, 1);
  });

  test('listObjectsAfter returns one page after the given key, with sizes and unquoted ETags', async () => {
    const { s3, requests } = fakeBucket(['a/1', 'a/2', 'a/3', 'a/4'], 10);
    assert.deepEqual(
      await listObjectsAfter(s3, { bucket: 'b', prefix: 'a/', startAfter: 'a/1', maxKeys: 2 }),
      {
        objects: [
          { key: 'a/2', size: 3, etag: 'etag-a/2' },
          { key: 'a/3', size: 3, etag: 'etag-a/3' },
        ],
        truncated: true,
      },
    );
    const last = await listObjectsAfter(s3, { bucket: 'b', prefix: 'a/', startAfter: 'a/3', maxKeys: 2 });
    assert.deepEqual(
      { keys: last.objects.map((object) => object.key), truncated: last.truncated },
      { keys: ['a/4'], truncated: false },
    );
    assert.deepEqual(requests[0], { Bucket: 'b', Prefix: 'a/', StartAfter: 'a/1', MaxKeys: 2 });
  });
});
