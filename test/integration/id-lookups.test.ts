import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MongoClient, type Db } from 'mongodb';
import { answersOnlySingleIdFromKey, findByIdsIn, idLookups } from '../../src/storage/id-lookups';
import { ensureStack, ROOT } from '../helpers/stack';

ensureStack();
const localFerret = !(process.env.DEV_SKIP ?? '').split(',').some((part) => /mongo|ferretdb/.test(part));

/**
 * SQLite's plan for the query FerretDB 1.x runs for a lookup by `_id`, read from the database
 * file of the local stack.
 */
function lookupPlan(database: string): string {
  const file = join(ROOT, '.dev', 'data', 'ferretdb', `${database}.sqlite`);
  const python = existsSync(join(ROOT, '.dev', 'venv', 'bin', 'python'))
    ? join(ROOT, '.dev', 'venv', 'bin', 'python')
    : 'python3';
  const script = `
import sqlite3, sys
db = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True)
(table,) = db.execute("SELECT table_name FROM _ferretdb_collections WHERE name = 'records'").fetchone()
plan = db.execute("EXPLAIN QUERY PLAN SELECT _ferretdb_sjson FROM \\"%s\\" WHERE _ferretdb_sjson->'$._id' = ?" % table, ['"x"']).fetchall()
print(' '.join(row[3] for row in plan))
`;
  return execFileSync(python, ['-c', script, file], { encoding: 'utf8' }).trim();
}

describe('lookups by id', () => {
  let mongo: MongoClient;
  let db: Db;
  const name = `ids_${randomBytes(4).toString('hex')}`;

  before(async () => {
    mongo = await MongoClient.connect(process.env.MONGODB_URI!);
    db = mongo.db(name);
    const docs = Array.from({ length: 40 }, (_, i) => ({ _id: `h${i}`, n: i, nested: { a: i } }));
    await db.collection<{ _id: string }>('records').insertMany(docs);
  });

  after(async () => {
    await db.dropDatabase();
    await mongo.close();
  });

  test('read the same documents one by one as one $in read, whichever the server calls for', async () => {
    const records = db.collection<{ _id: string; n: number; nested: { a: number } }>('records');
    const ids = ['h1', 'h7', 'h7', 'h39', 'absent'];
    const projection = { _id: 1, n: 1 };
    const byServer = await idLookups(db)(records, ids, projection);
    const byIn = await findByIdsIn(records, ids, projection);
    const sorted = (docs: Array<{ _id: string }>) => [...docs].sort((a, b) => a._id.localeCompare(b._id));
    assert.deepEqual(sorted(byServer), [
      { _id: 'h1', n: 1 },
      { _id: 'h39', n: 39 },
      { _id: 'h7', n: 7 },
    ]);
    assert.deepEqual(sorted(byServer), sorted(byIn));
  });

  test(
    'the local stack is FerretDB 1.x, and its lookups by _id use an index',
    { skip: !localFerret },
    async () => {
      assert.equal(answersOnlySingleIdFromKey(await db.command({ buildInfo: 1 })), true);
      // The dev server adds the index within a second or two of the collection's creation.
      let plan = '';
      for (let waited = 0; waited < 10_000; waited += 250) {
        plan = lookupPlan(name);
        if (/USING INDEX/.test(plan)) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      assert.match(plan, /SEARCH .* USING INDEX/);
      const indexes = await db.collection('records').listIndexes().toArray();
      assert.deepEqual(
        indexes.map((index) => index.name),
        ['_id_'],
        'FerretDB lists only its own indexes',
      );
    },
  );
});
