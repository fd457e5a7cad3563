import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inputKey } from '../../src/planning/discover';

describe('planning/discover inputKey', () => {
  test('a file whose name ends with the extension is its own input', () => {
    assert.deepEqual(inputKey('sub/x.nwb', '.nwb'), { path: 'sub/x.nwb', folder: false });
    assert.equal(inputKey('sub/x.nwb.bak', '.nwb'), undefined);
    assert.equal(inputKey('x.csv/', '.txt'), undefined);
  });

  test('a folder whose name ends with the extension is one input, whatever it holds', () => {
    for (const key of ['x.nwb.zarr/.zattrs', 'x.nwb.zarr/acquisition/0.0', 'x.nwb.zarr/']) {
      assert.deepEqual(inputKey(key, '.zarr'), { path: 'x.nwb.zarr', folder: true }, key);
    }
    assert.deepEqual(inputKey('s/x.ome.zarr/0/1', '.ome.zarr'), { path: 's/x.ome.zarr', folder: true });
  });

  test('the shallowest match wins: a zarr nested in a zarr is part of it', () => {
    assert.deepEqual(inputKey('outer.zarr/inner.zarr/0.0', '.zarr'), { path: 'outer.zarr', folder: true });
    assert.deepEqual(inputKey('outer.zarr/file.zarr', '.zarr'), { path: 'outer.zarr', folder: true });
  });

  test('a name that only starts with the extension is no match', () => {
    assert.equal(inputKey('x.zarr2/0.0', '.zarr'), undefined);
    assert.equal(inputKey('x.zarr.bak/0.0', '.zarr'), undefined);
    assert.equal(inputKey('notes.txt', '.zarr'), undefined);
  });
});
