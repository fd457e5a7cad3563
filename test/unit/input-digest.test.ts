import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { changedInputs, inputDigest, inputsChanged } from '../../src/input-digest';
import type { InputFingerprint, Task } from '../../src/types';

const file: InputFingerprint = { url: 's3://d/a/x.csv', size: 7, etag: 'e1' };
const folder: InputFingerprint = { url: 's3://d/a/x.zarr', size: 210, objects: 3, digest: 'f'.repeat(64) };
const withInputs = (input_fingerprints?: InputFingerprint[]) => ({ input_fingerprints }) as Task;

describe('input-digest', () => {
  test('inputDigest: the same fingerprints give the same digest, whatever their key order', () => {
    const digest = inputDigest([file, folder]);
    assert.match(digest ?? '', /^[0-9a-f]{64}$/);
    assert.equal(inputDigest([{ etag: 'e1', size: 7, url: 's3://d/a/x.csv' }, folder]), digest);
    assert.notEqual(inputDigest([{ ...file, etag: 'e2' }, folder]), digest);
    assert.equal(inputDigest([]), undefined);
    assert.equal(inputDigest(undefined), undefined);
  });

  test('inputsChanged: only when both sides have a digest and they differ', () => {
    const recorded = inputDigest([file]);
    assert.equal(inputsChanged(recorded, withInputs([file])), false);
    assert.equal(inputsChanged(recorded, withInputs([{ ...file, size: 8 }])), true);
    // A record made before fingerprints were kept, or a task planned without them, is unchanged.
    assert.equal(inputsChanged(undefined, withInputs([file])), false);
    assert.equal(inputsChanged(recorded, withInputs(undefined)), false);
  });

  test('changedInputs: names each input whose fingerprint differs, by URL', () => {
    const now = [{ ...file, etag: 'e2' }, folder];
    assert.deepEqual(changedInputs([file, folder], now), [
      { url: file.url, recorded: file, current: now[0] },
    ]);
    assert.deepEqual(changedInputs([file, folder], [file, { ...folder, objects: 4 }]).length, 1);
    assert.deepEqual(changedInputs(undefined, now), []);
    assert.deepEqual(changedInputs([folder], [file]), []);
  });
});
