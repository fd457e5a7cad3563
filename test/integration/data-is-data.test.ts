import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { parse } from 'csv-parse/sync';
import { recordFacts } from '../../src/aind/metadata';
import type { StoredRecord } from '../../src/types';
import { runCli } from '../helpers/cli';
import { writeSpec } from '../helpers/data';
import { FIXTURE_ANALYSES, testStack, type TestStack } from '../helpers/stack';

/** A command analysis whose outputs are the files it finds under its input folder. */
const LIST_INPUTS = [
  'python3',
  '-c',
  [
    'import json, os',
    'root = os.environ["ANALYSIS_INPUT_DIR"]',
    'files = sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)',
    'json.dump({"files": files}, open(os.path.join(os.environ["ANALYSIS_RESULTS_DIR"], "outputs.json"), "w"))',
  ].join('\n'),
];

/**
 * What comes from data stays data, on the real stack: groups that read the same inputs are tasks
 * of their own, names reach spreadsheets and terminals inert, and a folder input arrives whole.
 */
describe('data is data', () => {
  let stack: TestStack;
  let dir: string;
  const assets = () =>
    stack.mongo.db(stack.config.ASSETS_DATABASE).collection(stack.config.ASSETS_COLLECTION);
  const records = () =>
    stack.mongo.db(stack.config.DOCDB_DATABASE).collection<StoredRecord>(stack.config.DOCDB_COLLECTION);
  const put = (Key: string) => stack.s3.send(new PutObjectCommand({ Bucket: stack.bucket, Key, Body: 'x' }));
  async function dispatch(...args: string[]): Promise<void> {
    const result = await runCli(['dispatch', ...args, '--wait'], stack.env, { timeoutMs: 300_000 });
    assert.equal(result.code, 0, result.stdout + result.stderr);
  }

  before(async () => {
    stack = await testStack('data-is-data');
    stack.env.ANALYSIS_MODULES_DIR = FIXTURE_ANALYSES;
    stack.env.ANALYSIS_ALLOW_SPEC_COMMANDS = '1';
    await stack.startWorker({ ANALYSIS_MODULES_DIR: FIXTURE_ANALYSES });
    dir = mkdtempSync(join(tmpdir(), 'data-is-data-'));
  });
  after(async () => stack?.close());

  test('an asset unwound into two groups is two tasks with two records, each with its group', async () => {
    await assets().insertOne({
      _id: 'twin' as never,
      name: 'twin',
      location: `s3://${stack.bucket}/data/twin`,
      subject: [{ id: 's1' }, { id: 's2' }],
    });
    const spec = writeSpec(dir, [{ analysis_name: 'Noop', analysis_version: 'groups' }], 'groups.json');
    const args = ['--query', '{"_id": "twin"}', '--analysis_spec', spec, '--group_by', 'subject.id'];
    await dispatch(...args, '--unwind_list_fields', 'subject');
    const written = await records().find({ analysis_version: 'groups' }).toArray();
    assert.equal(written.length, 2, 'one record per group');
    assert.notEqual(written[0]!._id, written[1]!._id);
    // Each record's notes name its group: `group {"subject.id":"s1"}`, quoted inside a JSON string.
    const groupOf = (record: StoredRecord) =>
      ['s1', 's2'].filter((id) => JSON.stringify(record).includes(`{\\"subject.id\\":\\"${id}\\"}`));
    assert.deepEqual(written.map(groupOf).sort(), [['s1'], ['s2']]);
    const again = await runCli(['plan', ...args, '--unwind_list_fields', 'subject'], stack.env);
    assert.match(again.stdout, /2 tasks from 1 assets: 0 new, 2 already done/, again.stdout + again.stderr);
  });

  test('results --csv neutralises formulas and the table shows escape codes as codes', async () => {
    const names = ['=HYPERLINK("http://example.org","click")', 'red\u001b[31m\u001b]0;title\u0007'];
    await assets().insertMany(
      names.map((name, index) => ({
        _id: `named_${index}` as never,
        name,
        location: `s3://${stack.bucket}/data/named_${index}`,
      })),
    );
    const spec = writeSpec(dir, [{ analysis_name: 'Noop', analysis_version: 'names' }], 'names.json');
    await dispatch('--query', '{"_id": {"$regex": "^named_"}}', '--analysis_spec', spec);
    const csv = await runCli(['results', '--analysis_version', 'names', '--csv'], stack.env);
    assert.equal(csv.code, 0, csv.stderr);
    const rows = parse(csv.stdout, { columns: true }) as Array<Record<string, string>>;
    assert.deepEqual(rows.map((row) => row.asset_name).sort(), [`'${names[0]}`, names[1]].sort());
    const table = await runCli(['results', '--analysis_version', 'names'], stack.env);
    assert.equal(table.code, 0, table.stderr);
    assert.ok(!table.stdout.includes('\u001b') && !table.stdout.includes('\u0007'), table.stdout);
    assert.match(table.stdout, /red\\x1b\[31m\\x1b\]0;title\\x07/);
  });

  test('download_inputs: true with a folder input (a zarr store) downloads the whole folder', async () => {
    await assets().insertOne({
      _id: 'zarr' as never,
      name: 'zarr',
      location: `s3://${stack.bucket}/data/zarr`,
    });
    for (const key of ['x.nwb.zarr/.zattrs', 'x.nwb.zarr/acquisition/0.0', 'x.nwb.zarr/acquisition/0.1'])
      await put(`data/zarr/${key}`);
    const spec = writeSpec(
      dir,
      [{ analysis_name: 'List Inputs', analysis_version: '1', command: LIST_INPUTS, download_inputs: true }],
      'zarr.json',
    );
    await dispatch('--query', '{"_id": "zarr"}', '--file_extension', '.zarr', '--analysis_spec', spec);
    const [record] = await records().find({ analysis_name: 'List Inputs' }).toArray();
    assert.ok(record, 'recorded');
    assert.deepEqual(recordFacts(record).outputs.files, [
      'x.nwb.zarr/.zattrs',
      'x.nwb.zarr/acquisition/0.0',
      'x.nwb.zarr/acquisition/0.1',
    ]);
  });
});
