import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { InputError } from '../../src/errors';
import { readAssetIdsCsv } from '../../src/request/csv';

const dir = mkdtempSync(join(tmpdir(), 'planning-csv-'));

function csv(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('readAssetIdsCsv', () => {
  test('reads the asset_id column, trimmed and de-duplicated, in order', () => {
    const path = csv('ids.csv', '\ufeffname,asset_id\nx, b \ny,a\nz,b\nw,\n\n');
    assert.deepEqual(readAssetIdsCsv(path), ['b', 'a']);
  });

  test('a missing column names the file and the columns found', () => {
    const path = csv('other.csv', 'id,name\n1,x\n');
    assert.throws(
      () => readAssetIdsCsv(path),
      (err: Error) =>
        err instanceof InputError && err.message.includes(path) && err.message.includes('"id", "name"'),
    );
  });

  test('an empty column is an error', () => {
    assert.throws(() => readAssetIdsCsv(csv('blank.csv', 'asset_id,name\n,x\n ,y\n')), /column is empty/);
    assert.throws(() => readAssetIdsCsv(csv('header-only.csv', 'asset_id\n')), /column is empty/);
  });

  test('an empty file is an error', () => {
    assert.throws(() => readAssetIdsCsv(csv('empty.csv', '')), /is empty/);
  });

  test('a missing file is an InputError naming it', () => {
    const path = join(dir, 'nope.csv');
    assert.throws(
      () => readAssetIdsCsv(path),
      (err: Error) => err instanceof InputError && err.message.includes(path),
    );
  });
});
