import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { InputError } from '../../src/errors';
import { checkQuery, parseQuery } from '../../src/request/query';

const dir = mkdtempSync(join(tmpdir(), 'planning-query-'));

describe('parseQuery', () => {
  test('parses an inline JSON filter', () => {
    assert.deepEqual(parseQuery('{"name": {"$regex": "^behavior_741213.*processed"}}'), {
      name: { $regex: '^behavior_741213.*processed' },
    });
  });

  test('reads a filter from a file when the text is not JSON', () => {
    const path = join(dir, 'query.json');
    writeFileSync(path, '{"subject.subject_id": "741213"}');
    assert.deepEqual(parseQuery(path), { 'subject.subject_id': '741213' });
  });

  test('a file holding invalid JSON names the file', () => {
    const path = join(dir, 'broken.json');
    writeFileSync(path, '{"name": ');
    assert.throws(
      () => parseQuery(path),
      (err: Error) => err instanceof InputError && err.message.includes(path),
    );
  });

  test('neither JSON nor a file: says so, with the parse position', () => {
    assert.throws(
      () => parseQuery('{"name": oops}'),
      (err: Error) =>
        err instanceof InputError &&
        /neither valid JSON nor an existing file/.test(err.message) &&
        /at line 1, column 10/.test(err.message),
    );
  });

  test('must be an object', () => {
    for (const text of ['[1, 2]', '"name"', '42', 'null']) {
      assert.throws(() => parseQuery(text), /must be a JSON object/);
    }
  });

  test('refuses server-side JavaScript operators at any depth, naming operator and path', () => {
    const cases: Array<[string, string, string]> = [
      ['{"$where": "this.a > 1"}', '$where', '$where'],
      ['{"$or": [{"a": 1}, {"$expr": {"$function": {"body": "x"}}}]}', '$function', '$or[1].$expr.$function'],
      ['{"a": {"$elemMatch": {"b": {"$accumulator": {}}}}}', '$accumulator', 'a.$elemMatch.b.$accumulator'],
    ];
    for (const [text, operator, path] of cases) {
      assert.throws(
        () => parseQuery(text),
        (err: Error) => err instanceof InputError && err.message.includes(`${operator} at ${path}`),
        text,
      );
    }
  });

  test('operator names as values are not operators', () => {
    assert.deepEqual(parseQuery('{"note": "$where"}'), { note: '$where' });
  });

  test('a filter past what the database takes in one command is refused, naming its size and the limit', () => {
    const ids = Array.from({ length: 600_000 }, (_, i) => `asset-${String(i).padStart(20, '0')}`);
    assert.throws(
      () => parseQuery(JSON.stringify({ _id: { $in: ids } })),
      /--query filter is 22\.2 MiB as BSON, more than the 15 MiB .* --asset_csv FILE/,
    );
    assert.equal(
      (parseQuery(JSON.stringify({ _id: { $in: ids.slice(0, 100_000) } })) as { _id: { $in: string[] } })._id
        .$in.length,
      100_000,
    );
  });
});

describe('checkQuery', () => {
  test('checkQuery refuses the same filters as --query, under the name it is given', () => {
    assert.deepEqual(checkQuery({ name: 'a' }, 'the stored query'), { name: 'a' });
    assert.throws(
      () => checkQuery({ $or: [{ $where: 'true' }] }, 'the stored query'),
      (err) =>
        err instanceof InputError && /^the stored query uses \$where at \$or\[0\]\.\$where/.test(err.message),
    );
    assert.throws(() => checkQuery([], 'the stored query'), /the stored query must be a JSON object/);
  });
});
