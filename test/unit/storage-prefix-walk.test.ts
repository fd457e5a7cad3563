import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { byteOrder, commonPrefix, listingRuns, walkPrefixes } from '../../src/storage/prefix-walk';

/** An S3 client that lists `keys` of one bucket from memory, in byte order, and logs each request. */
function fakeLister(keys: string[]) {
  const requests: Array<{ prefix: string; startAfter: string; maxKeys: number }> = [];
  const sorted = [...keys].sort(byteOrder);
  const client = {
    async send(command: ListObjectsV2Command) {
      const { Prefix = '', StartAfter = '', ContinuationToken, MaxKeys = 1000 } = command.input;
      if (!ContinuationToken) requests.push({ prefix: Prefix, startAfter: StartAfter, maxKeys: MaxKeys });
      const after = ContinuationToken ?? StartAfter;
      const found = sorted.filter((key) => key.startsWith(Prefix) && byteOrder(key, after) > 0);
      const page = found.slice(0, MaxKeys);
      return {
        Contents: page.map((Key) => ({ Key, ETag: '"e"', Size: 1 })),
        IsTruncated: found.length > page.length,
        NextContinuationToken: page[page.length - 1],
      };
    },
  };
  return { client: client as unknown as S3Client, requests };
}

describe('storage/prefix-walk', () => {
  test('byteOrder sorts as S3 does, by UTF-8 bytes', () => {
    // U+FF5E sorts before U+1F600 in UTF-8, after it in UTF-16 code units.
    assert.deepEqual(['\u{1F600}', '\uFF5E'].sort(byteOrder), ['\uFF5E', '\u{1F600}']);
  });

  test('commonPrefix is what two keys share from their start', () => {
    assert.equal(commonPrefix('a/b1/', 'a/b2/'), 'a/b');
    assert.equal(commonPrefix('x/', 'y/'), '');
  });

  test('listingRuns cuts each bucket’s sorted prefixes into runs, one prefix a run where they nest', () => {
    const many = new Set(Array.from({ length: 16 }, (_, i) => `p${String(i).padStart(2, '0')}/`));
    const runs = listingRuns(new Map([['b', many]]), 2);
    assert.deepEqual(
      runs.map((run) => run.prefixes.length),
      [2, 2, 2, 2, 2, 2, 2, 2],
    );
    assert.deepEqual(runs[0], { bucket: 'b', prefixes: ['p00/', 'p01/'] });
    const nested = listingRuns(new Map([['n', new Set(['a/b/', 'a/'])]]), 1);
    assert.deepEqual(nested, [
      { bucket: 'n', prefixes: ['a/'] },
      { bucket: 'n', prefixes: ['a/b/'] },
    ]);
  });

  test('walkPrefixes visits each prefix’s objects in one listing, skipping folder markers and keys between them', async () => {
    const { client, requests } = fakeLister(['a/', 'a/1', 'a/2', 'ab/x', 'b/1', 'c/1', 'c/2']);
    const seen: string[] = [];
    let listed = 0;
    await walkPrefixes(
      client,
      'bkt',
      ['a/', 'c/'],
      () => listed++,
      (prefix, object) => {
        seen.push(`${prefix} ${object.key}`);
        return undefined;
      },
    );
    assert.deepEqual(seen, ['a/ a/1', 'a/ a/2', 'c/ c/1', 'c/ c/2']);
    assert.equal(listed, 2);
    assert.deepEqual(requests, [{ prefix: '', startAfter: 'a/', maxKeys: 100 }]);
  });

  test('walkPrefixes jumps past the key a visit answers when its object ends a page', async () => {
    const chunks = Array.from({ length: 1500 }, (_, i) => `a/x.zarr/${String(i).padStart(4, '0')}`);
    const { client, requests } = fakeLister([...chunks, 'a/y.csv']);
    const seen: string[] = [];
    await walkPrefixes(
      client,
      'bkt',
      ['a/'],
      () => undefined,
      (_prefix, object) => {
        seen.push(object.key);
        return object.key.startsWith('a/x.zarr/') ? 'a/x.zarr/\u{10FFFF}' : undefined;
      },
    );
    // A prefix walked alone is listed in dense pages: the first ends inside the zarr, and the
    // next starts past it.
    assert.equal(seen.length, 1001);
    assert.equal(seen[1000], 'a/y.csv');
    assert.deepEqual(
      requests.map((request) => request.startAfter),
      ['a/', 'a/x.zarr/\u{10FFFF}'],
    );
  });
});
