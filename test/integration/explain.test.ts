import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli';
import { seedAssets, writeSpec } from '../helpers/data';
import { ROOT, testStack, type TestStack } from '../helpers/stack';
import type { StoredRecord } from '../../src/types';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'analyses');
const QUERY = '{"name": {"$regex": "^(asset|fresh)_"}}';

interface ExplainedTask {
  status: string;
  will_run: boolean;
  task: { hash: string; input: { asset_name: string[] } };
  explanation?: {
    reason: string;
    record?: { hash: string };
    differences: Array<{ field: string; name?: string; old?: unknown; new?: unknown }>;
  };
}

interface ExplainedPlan {
  explain: Array<{ tasks: number; reason: string; differences: unknown[]; examples: string[] }>;
  tasks: ExplainedTask[];
}

describe('plan --explain', () => {
  let stack: TestStack;
  let dir: string;
  const noop = (version: string, parameters: Record<string, unknown>) =>
    writeSpec(dir, [{ analysis_name: 'Noop', analysis_version: version, analysis_parameters: parameters }]);

  const plan = async (spec: string, ...extra: string[]) => {
    const result = await runCli(
      ['plan', '--query', QUERY, '--analysis_spec', spec, '--explain', ...extra],
      stack.env,
    );
    assert.equal(result.code, 0, result.stderr + result.stdout);
    return result.stdout;
  };
  const planJson = async (spec: string) => JSON.parse(await plan(spec, '--json')) as ExplainedPlan;

  before(async () => {
    stack = await testStack('explain');
    stack.env.ANALYSIS_MODULES_DIR = FIXTURES;
    await stack.startWorker({ ANALYSIS_MODULES_DIR: FIXTURES });
    dir = mkdtempSync(join(tmpdir(), 'explain-test-'));
    await seedAssets(stack, { count: 4 });
    const done = await runCli(
      ['dispatch', '--query', QUERY, '--analysis_spec', noop('1.0.0', { window_s: 5, label: 'x' }), '--wait'],
      stack.env,
    );
    assert.equal(done.code, 0, done.stderr + done.stdout);
    // An asset added after the dispatch: its task has no earlier record.
    await seedAssets(stack, { count: 1, namePrefix: 'fresh' });
  });
  after(async () => stack?.close());

  test('a changed parameter is named with its old and new value, per task and rolled up', async () => {
    const spec = noop('1.0.0', { window_s: 7, label: 'x' });
    const text = await plan(spec);
    assert.match(text, /5 tasks from 5 assets: 5 new, 0 already done/);
    assert.match(
      text,
      /explain: 5 tasks, 4 with an earlier record of the same inputs under another identity/,
    );
    assert.match(text, /^ {2}4 tasks: window_s 5 -> 7 \(e\.g\. asset_0000, asset_0001, asset_0002\)$/m);
    assert.match(text, /^ {2}1 task: no earlier record \(e\.g\. fresh_0000\)$/m);
    assert.match(text, /^ {2}asset_0003 \([0-9a-f]{12}\): window_s 5 -> 7 \[record [0-9a-f]{12}\]$/m);

    const json = await planJson(spec);
    const records = await stack.mongo
      .db(stack.config.DOCDB_DATABASE)
      .collection<StoredRecord>(stack.config.DOCDB_COLLECTION)
      .find({}, { projection: { _id: 1, 'input.asset_name': 1 } })
      .toArray();
    const recordOf = new Map(records.map((record) => [record.input.asset_name[0], record._id]));
    for (const { task, status, will_run, explanation } of json.tasks) {
      const asset = task.input.asset_name[0]!;
      assert.equal(status, 'new');
      assert.equal(will_run, true);
      if (asset.startsWith('fresh')) {
        assert.deepEqual(explanation, { reason: 'no_earlier_record', differences: [] });
        continue;
      }
      assert.equal(explanation?.reason, 'changed', asset);
      assert.equal(explanation?.record?.hash, recordOf.get(asset));
      // analysis_name and analysis_version sit among the record's parameters: no difference.
      assert.deepEqual(explanation?.differences, [{ field: 'parameter', name: 'window_s', old: 5, new: 7 }]);
    }
    assert.deepEqual(
      json.explain.map(({ tasks, reason, differences }) => [tasks, reason, differences]),
      [
        [4, 'changed', [{ field: 'parameter', name: 'window_s', old: 5, new: 7 }]],
        [1, 'no_earlier_record', []],
      ],
    );
  });

  test('a changed analysis_version is named, and nothing else', async () => {
    const json = await planJson(noop('2.0.0', { window_s: 5, label: 'x' }));
    assert.deepEqual(json.explain[0]?.differences, [
      { field: 'analysis_version', old: '1.0.0', new: '2.0.0' },
    ]);
    assert.equal(json.explain[0]?.tasks, 4);
    assert.match(
      await plan(noop('2.0.0', { window_s: 5, label: 'x' })),
      /^ {2}4 tasks: analysis_version 1\.0\.0 -> 2\.0\.0 \(e\.g\. /m,
    );
  });

  test('tasks done by different code are explained with the recorded and the current commit', async () => {
    // Records made by other code: the commit they name is not the checkout's.
    const other = 'f'.repeat(40);
    await stack.mongo
      .db(stack.config.DOCDB_DATABASE)
      .collection<StoredRecord>(stack.config.DOCDB_COLLECTION)
      .updateMany({}, { $set: { 'code.commit': other } });
    const spec = noop('1.0.0', { window_s: 5, label: 'x' });
    const text = await plan(spec);
    assert.match(text, /4 done by different code/);
    assert.match(
      text,
      new RegExp(
        `^ {2}4 tasks: done by different code: commit ${other.slice(0, 12)} -> [0-9a-f]{12} \\(e\\.g\\. `,
        'm',
      ),
    );
    const json = await planJson(spec);
    const changed = json.tasks.filter(({ status }) => status === 'changed_code');
    assert.equal(changed.length, 4);
    for (const { task, will_run, explanation } of changed) {
      assert.equal(will_run, false);
      assert.equal(explanation?.reason, 'changed_code');
      assert.equal(explanation?.record?.hash, task.hash);
      const [commit] = explanation?.differences ?? [];
      assert.equal(commit?.field, 'commit');
      assert.equal(commit?.old, other);
      assert.match(String(commit?.new), /^[0-9a-f]{40}$/);
      assert.notEqual(commit?.new, other);
    }
    assert.deepEqual(
      json.explain.map(({ tasks, reason }) => [tasks, reason]),
      [
        [4, 'changed_code'],
        [1, 'no_earlier_record'],
      ],
    );
  });
});
