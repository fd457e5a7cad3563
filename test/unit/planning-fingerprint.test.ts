import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { discoverFiles } from '../../src/planning/discover';
import {
  fingerprintAtRun,
  fingerprintListedFiles,
  fingerprintTasks,
  folderFingerprint,
  inputUrls,
  listFolderFingerprints,
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

  test('listFolderFingerprints: every page of each folder, side by side ones in shared listings', async () => {
    const objects: Objects = {
      ...zarr,
      'a/y.zarr/': { etag: 'marker', size: 0 },
      'a/y.zarr/0': { etag: 'e5', size: 5 },
      'a/y.zarrs/0': { etag: 'e6', size: 6 },
      'a/z.zarr/0': { etag: 'e7', size: 7 },
    };
    const { client } = fakeLister(objects);
    const urls = ['s3://bkt/a/x.zarr', 's3://bkt/a/y.zarr', 's3://bkt/a/z.zarr', 's3://bkt/a/gone.zarr'];
    const fingerprints = await listFolderFingerprints(client, urls, 1);
    assert.deepEqual(
      urls.map((url) => [fingerprints.get(url)?.objects, fingerprints.get(url)?.size]),
      [
        [3, 210],
        [1, 5],
        [1, 7],
        [0, 0],
      ],
    );
    // Small folders side by side share pages: 40 of one object each, 10 to a walk, 2 keys a page.
    const many: Objects = {};
    for (let i = 10; i < 50; i++) many[`s/f${i}/0`] = { etag: `e${i}`, size: 1 };
    const shared = fakeLister(many);
    const folders = Object.keys(many).map((key) => `s3://bkt/${key.slice(0, -2)}`);
    const listed = await listFolderFingerprints(shared.client, folders, 1);
    assert.equal([...listed.values()].filter((fingerprint) => fingerprint.objects === 1).length, 40);
    assert.equal(shared.requests.length, 20);
    // Alone, a folder fingerprints as it does among others.
    const alone = await listFolderFingerprints(fakeLister(objects).client, ['s3://bkt/a/y.zarr']);
    assert.deepEqual(alone.get('s3://bkt/a/y.zarr'), fingerprints.get('s3://bkt/a/y.zarr'));
  });

  test('listFolderFingerprints: a bucket that cannot be listed gives no fingerprints and one warning', async () => {
    const client = {
      async send() {
        throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
      },
    } as unknown as S3Client;
    const warnings: string[] = [];
    const fingerprints = await listFolderFingerprints(
      client,
      ['s3://locked/a', 's3://locked/b'],
      2,
      undefined,
      (message) => warnings.push(message),
    );
    assert.equal(fingerprints.size, 0);
    assert.deepEqual(warnings, [
      'bucket locked cannot be listed (AccessDenied): its inputs have no fingerprint, so changes to them go unnoticed',
    ]);
    const tasks = [task(['s3://locked/a'])];
    await fingerprintTasks(client, tasks, new Map());
    assert.equal(tasks[0]!.input_fingerprints, undefined);
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
    assert.equal(await fingerprintTasks(client, tasks, facts, { onListed: () => listed++ }), 1);
    assert.equal(listed, 1);
    assert.deepEqual(requests, ['a/x.zarr/', 'a/x.zarr/']);
    assert.deepEqual(tasks[0]!.input_fingerprints, [{ url: 's3://bkt/a/units.csv', size: 7, etag: 'e4' }]);
    assert.equal(tasks[1]!.input_fingerprints![0]!.objects, 3);
    assert.deepEqual(tasks[2]!.input_fingerprints, tasks[1]!.input_fingerprints);
    assert.deepEqual(tasks[3]!.input_fingerprints, [{ url: 'kept', size: 0 }]);
  });

  test('fingerprintListedFiles: only tasks whose inputs are all listed files, and without a request', () => {
    const facts: ObjectFacts = new Map([['s3://bkt/a/units.csv', { etag: 'e4', size: 7 }]]);
    const tasks = [
      task(['s3://bkt/a'], ['s3://bkt/a/units.csv']),
      task(['s3://bkt/a'], ['s3://bkt/a/units.csv', 's3://bkt/a/x.zarr']),
      task(['s3://bkt/a']),
    ];
    fingerprintListedFiles(tasks, facts);
    assert.deepEqual(tasks[0]!.input_fingerprints, [{ url: 's3://bkt/a/units.csv', size: 7, etag: 'e4' }]);
    assert.equal(tasks[1]!.input_fingerprints, undefined);
    assert.equal(tasks[2]!.input_fingerprints, undefined);
  });

  test('fingerprintAtRun: what planning would have found, files and folders alike', async () => {
    const facts: ObjectFacts = new Map([['s3://bkt/a/units.csv', { etag: 'e4', size: 7 }]]);
    const planned = task(['s3://bkt/a'], ['s3://bkt/a/units.csv', 's3://bkt/a/x.zarr']);
    await fingerprintTasks(fakeLister(zarr).client, [planned], facts);
    const atRun = await fingerprintAtRun(fakeLister(zarr).client, planned);
    assert.deepEqual(atRun, planned.input_fingerprints);
    assert.equal(atRun![1]!.objects, 3);

    const whole = task(['s3://bkt/a']);
    await fingerprintTasks(fakeLister(zarr).client, [whole], new Map());
    assert.deepEqual(await fingerprintAtRun(fakeLister(zarr).client, whole), whole.input_fingerprints);
    assert.equal(whole.input_fingerprints![0]!.objects, 4);
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
