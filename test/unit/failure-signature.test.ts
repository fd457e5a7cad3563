import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { errorSignature, groupFailures, type FailureSample } from '../../src/failure-signature';

describe('failure signatures', () => {
  test('numbers, hex ids, hashes, paths, URLs, UUIDs and times become placeholders', () => {
    assert.equal(
      errorSignature('no file /data/asset_0042/units.csv in s3://bucket-7/data/asset_0042'),
      'no file <path> in <url>',
    );
    assert.equal(errorSignature('task 3fa85f64-5717-4562-b3fc-2c963f66afa6 failed'), 'task <uuid> failed');
    assert.equal(
      errorSignature('hash abcdef0123456789 is locked by 0xdeadbeef'),
      'hash <hex> is locked by <hex>',
    );
    assert.equal(
      errorSignature('took 12.5 s, limit 10 s, at 2026-12-02T07:45:21.123Z'),
      'took <n> s, limit <n> s, at <time>',
    );
    assert.equal(errorSignature('asset_0042 has 17 units'), 'asset_<n> has <n> units');
    assert.equal(errorSignature('exit code 137 (killed)'), 'exit code <n> (killed)');
  });

  test('words, versions glued to letters and plain text stay as they are', () => {
    assert.equal(errorSignature('poisoned task: fail is true'), 'poisoned task: fail is true');
    assert.equal(
      errorSignature('cannot reach s3 with utf8 and/or v2'),
      'cannot reach s3 with utf8 and/or v2',
    );
    assert.equal(errorSignature('  two\n  lines  '), 'two lines');
    assert.equal(errorSignature(''), '(no message)');
    assert.ok(errorSignature('x'.repeat(1000)).length <= 200);
  });

  test('900 failures of three causes read as three groups, largest first, with example assets', () => {
    const samples: FailureSample[] = [];
    for (let i = 0; i < 900; i++) {
      const asset = `asset_${String(i).padStart(4, '0')}`;
      const error =
        i % 3 === 0
          ? `no file /data/${asset}/units.csv`
          : i % 3 === 1
            ? `worker ran out of memory after ${i} MiB`
            : i < 100
              ? `timed out after ${i} s`
              : `worker ran out of memory after ${i} MiB`;
      samples.push({ hash: `h${i}`, asset_name: asset, error, analysis_name: i % 2 ? 'A' : 'B' });
    }
    const grouped = groupFailures(samples, { examples: 2 });
    assert.equal(grouped.sampled, 900);
    assert.deepEqual(
      grouped.groups.map((group) => [group.signature, group.count]),
      [
        ['worker ran out of memory after <n> MiB', 300 + 267],
        ['no file <path>', 300],
        ['timed out after <n> s', 33],
      ],
    );
    assert.deepEqual(grouped.groups[1]?.example_assets, ['asset_0000', 'asset_0003']);
    assert.equal(grouped.groups[1]?.example_error, 'no file /data/asset_0000/units.csv');
    assert.deepEqual(grouped.groups[0]?.analyses, ['A', 'B']);
    assert.equal(grouped.other_groups, 0);
  });

  test('a task sampled twice counts once; failures of no task count each; top bounds the groups', () => {
    const grouped = groupFailures(
      [
        { hash: 'a', asset_name: 'x', error: 'boom 1' },
        { hash: 'a', asset_name: 'x', error: 'boom 1' },
        { hash: '', asset_name: '', error: 'job failed: gone' },
        { hash: '', asset_name: '', error: 'job failed: gone' },
        { hash: 'b', asset_name: 'y', error: 'other' },
      ],
      { top: 2 },
    );
    assert.equal(grouped.sampled, 4);
    assert.deepEqual(
      grouped.groups.map((group) => [group.signature, group.count]),
      [
        ['job failed: gone', 2],
        ['boom <n>', 1],
      ],
    );
    assert.equal(grouped.other_groups, 1);
    assert.equal(grouped.other_failures, 1);
    assert.deepEqual(grouped.groups[0]?.example_assets, []);
  });

  // Quadratic, 200 KB of these took tens of seconds; linear, milliseconds. The bound is far from both.
  test('errorSignature is linear in the message length, whatever the message', () => {
    for (const unit of ['a.', 'a-', 'a+', 'ab1-', '/.', ' /.', '1.', 'x://', 'abcdef0', '~.']) {
      const message = unit.repeat(Math.ceil(200_000 / unit.length));
      const started = Date.now();
      errorSignature(message);
      const ms = Date.now() - started;
      assert.ok(ms < 2000, `${JSON.stringify(unit)} x ${message.length / unit.length}: ${ms} ms`);
    }
  });

  test('a URL is found where its scheme starts', () => {
    assert.equal(errorSignature('GET https://host/a/b failed'), 'GET <url> failed');
    assert.equal(errorSignature('see (s3://bucket/key.json)'), 'see (<url>)');
    assert.equal(errorSignature('proxy git+ssh://host/repo.git'), 'proxy <url>');
  });
});
