import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Collection, Db } from 'mongodb';
import { answersOnlySingleIdFromKey, findByIdsOneByOne, idLookups } from '../../src/storage/id-lookups';

/** A collection answering `findOne({ _id })` from a Map, counting lookups in flight. */
function keyedCollection(ids: string[]) {
  const docs = new Map(ids.map((id) => [id, { _id: id, value: id.toUpperCase() }]));
  const seen = { inFlight: 0, most: 0, lookups: 0 };
  const collection = {
    async findOne(filter: { _id: unknown }) {
      assert.equal(typeof filter._id, 'string', 'each lookup names exactly one id');
      seen.lookups++;
      seen.most = Math.max(seen.most, ++seen.inFlight);
      await new Promise((resolve) => setTimeout(resolve, 1));
      seen.inFlight--;
      return docs.get(filter._id as string) ?? null;
    },
  } as unknown as Collection<{ _id: string; value: string }>;
  return { collection, seen };
}

describe('storage/id-lookups', () => {
  test('FerretDB 1.x is recognised by its buildInfo; FerretDB 2 and MongoDB are not', () => {
    assert.equal(answersOnlySingleIdFromKey({ version: '7.0.77', ferretdbVersion: 'v1.24.2' }), true);
    assert.equal(answersOnlySingleIdFromKey({ version: '7.0.77', ferretdbVersion: '1.9.0' }), true);
    assert.equal(answersOnlySingleIdFromKey({ version: '7.0.42', ferretdbVersion: 'unknown' }), true);
    assert.equal(answersOnlySingleIdFromKey({ version: '7.0.77', ferretdbVersion: 'v2.1.0' }), false);
    assert.equal(answersOnlySingleIdFromKey({ version: '7.0.77', ferretdbVersion: 'v10.0.0' }), false);
    assert.equal(answersOnlySingleIdFromKey({ version: '8.0.4', gitVersion: 'abc' }), false);
  });

  test('one lookup per distinct id, a few at a time, leaving out ids without a document', async () => {
    const present = Array.from({ length: 30 }, (_, i) => `h${i}`);
    const { collection, seen } = keyedCollection(present);
    const found = await findByIdsOneByOne(collection, [...present, 'h3', 'missing'], { _id: 1 });
    assert.deepEqual(found.map((doc) => doc._id).sort(), [...present].sort());
    assert.equal(seen.lookups, 31, 'a repeated id is looked up once');
    assert.ok(seen.most > 1 && seen.most <= 8, `lookups in flight: ${seen.most}`);
  });

  test('the server is asked what it is once, and again after a failed answer', async () => {
    let asked = 0;
    let fail = true;
    const db = {
      async command() {
        asked++;
        if (fail) throw new Error('not reachable');
        return { ok: 1, ferretdbVersion: 'v1.24.2' };
      },
    } as unknown as Db;
    const { collection } = keyedCollection(['a']);
    const find = idLookups(db);
    await assert.rejects(find(collection, ['a'], {}), /not reachable/);
    fail = false;
    assert.deepEqual(await find(collection, ['a'], {}), [{ _id: 'a', value: 'A' }]);
    await find(collection, ['a'], {});
    assert.equal(asked, 2);
  });
});
