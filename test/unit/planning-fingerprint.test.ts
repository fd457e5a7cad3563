import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { discoverFiles } from '../../src/planning/discover';
import {
  fingerprintTasks,
  folderFingerprint,
  inputUrls,
  listFolderFingerprint,
  type ObjectFacts,
} from '../../src/planning/fingerprint';
import type { Task } from '../../src/types';

type Objects = Record<string, { etag: string; size: number }>;

/** An S3 client that lists one bucket `bkt` from memory, two keys a page, and counts its requests. */
function fakeLister(objects: Objects) {
  const requests: string[] = [];
  const client = {
    async send(command: ListObjectsV2Command) {
      const { Prefix = '', StartAfter = '', ContinuationToken, MaxKeys = 2 } = command.input;
      requests.push(Prefix);
      const after = ContinuationToken ?? StartAfter;
      const keys = Object.keys(objects)
        .sort()
        .filter((key) => key.startsWith(Prefix) && key > after);
      const page = keys.slice(0, Math.min(MaxKeys, 2));
      return {
        Contents: page.map((Key) => ({ Key, ETag: `"${objects[Key]!.etag}"`, Size: objects[Key]!.size })),
        IsTruncated: keys.length > page.length,
        NextContinuationToken: page[page.length - 1],
      };
    },
  };
  return { client: client as unknown as S3Client, requests };
}

const task = (s3Location: string[], fileLocation: string[] = []): Task =>
  ({
    hash: 'h',
    input: { s3_location: s3Location, asset_name: [], docdb_record_id: [], file_location: fileLocation },
  }) as unknown as Task;

const zarr: Objects = {
  'a/x.zarr/.zattrs': { etag: 'e1', size: 10 },
  'a/x.zarr/0.0': { etag: 'e2', size: 100 },
  'a/x.zarr/0.1': { etag: 'e3', size: 100 },
  'a/units.csv': { etag: 'e4', size: 7 },
};

describe('planning/fingerprint', () => {
  test('inputUrls: the files of a task, or its assets when it has none', () => {
    assert.deepEqual(inputUrls(task(['s3://bkt/a'], ['s3://bkt/a/x.nwb'])), ['s3://bkt/a/x.nwb']);
    assert.deepEqual(inputUrls(task(['s3://bkt/a', 's3://bkt/c'])), ['s3://bkt/a', 's3://bkt/c']);
  });

  test('folderFingerprint: any object added, removed or rewritten changes the digest', () => {
    const objects = [
      { key: 'p/0', etag: 'a', size: 1 },
      { key: 'p/1', etag: 'b', size: 2 },
    ];
    const base = folderFingerprint('s3://bkt/p', 'p/', objects);
    assert.equal(base.size, 3);
    assert.equal(base.objects, 2);
    // The key is taken relative to the folder: the same content elsewhere has the same digest.
    assert.equal(
      folderFingerprint('s3://bkt/q', 'q/', [
        { key: 'q/0', etag: 'a', size: 1 },
        { key: 'q/1', etag: 'b', size: 2 },
      ]).digest,
      base.digest,
    );
    const variants = [
      [{ ...objects[0]!, etag: 'c' }, objects[1]!],
      [objects[0]!],
      [...objects, { key: 'p/2', etag: 'd', size: 0 }],
      [objects[0]!, { key: 'p/1b', etag: 'b', size: 2 }],
    ];
    for (const variant of variants)
      assert.notEqual(folderFingerprint('s3://bkt/p', 'p/', variant).digest, base.digest);
  });

  test('listFolderFingerprint: every page of the folder, and nothing beside it', async () => {
    const { client, requests } = fakeLister(zarr);
    const fingerprint = await listFolderFingerprint(client, 's3://bkt/a/x.zarr');
    assert.equal(fingerprint.objects, 3);
    assert.equal(fingerprint.size, 210);
    assert.deepEqual(requests, ['a/x.zarr/', 'a/x.zarr/']);
    const empty = await listFolderFingerprint(fakeLister({}).client, 's3://bkt/gone');
    assert.equal(empty.objects, 0);
  });

  test('fingerprintTasks: files from the discovery listing, each folder listed once', async () => {
    const { client, requests } = fakeLister(zarr);
    const facts: ObjectFacts = new Map([['s3://bkt/a/units.csv', { etag: 'e4', size: 7 }]]);
    const tasks = [
      task(['s3://bkt/a'], ['s3://bkt/a/units.csv']),
      task(['s3://bkt/a'], ['s3://bkt/a/x.zarr']),
      task(['s3://bkt/a'], ['s3://bkt/a/x.zarr']),
      { ...task(['s3://bkt/a']), input_fingerprints: [{ url: 'kept', size: 0 }] },
    ];
    let listed = 0;
    assert.equal(await fingerprintTasks(client, tasks, facts, 4, () => listed++), 1);
    assert.equal(listed, 1);
    assert.deepEqual(requests, ['a/x.zarr/', 'a/x.zarr/']);
    assert.deepEqual(tasks[0]!.input_fingerprints, [{ url: 's3://bkt/a/units.csv', size: 7, etag: 'e4' }]);
    assert.equal(tasks[1]!.input_fingerprints![0]!.objects, 3);
    assert.deepEqual(tasks[2]!.input_fingerprints, tasks[1]!.input_fingerprints);
    assert.deepEqual(tasks[3]!.input_fingerprints, [{ url: 'kept', size: 0 }]);
  });

  test('discoverFiles fills the facts of the files it finds, never of folder inputs', async () => {
    const facts: ObjectFacts = new Map();
    const { client } = fakeLister(zarr);
    const csv = await discoverFiles(client, ['s3://bkt/a'], '.csv', 2, undefined, facts);
    assert.deepEqual(csv.get('s3://bkt/a'), ['s3://bkt/a/units.csv']);
    assert.deepEqual([...facts], [['s3://bkt/a/units.csv', { size: 7, etag: 'e4' }]]);
    const folders: ObjectFacts = new Map();
    await discoverFiles(fakeLister(zarr).client, ['s3://bkt/a'], '.zarr', 2, undefined, folders);
    assert.equal(folders.size, 0);
  });
});
