import { recordFacts } from '../../../src/aind/metadata';
import assert from 'node:assert/strict';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { listKeys, type TestStack } from '../../helpers/stack';
import type { AnalysisRecord } from '../../../src/types';

export const recordsOf = (stack: TestStack) =>
  stack.mongo.db(stack.config.DOCDB_DATABASE).collection<AnalysisRecord>(stack.config.DOCDB_COLLECTION);

export async function readText(stack: TestStack, key: string): Promise<string> {
  const object = await stack.s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: key }));
  return object.Body!.transformToString();
}

/** Runs `work` over `items`, `size` at a time. */
export async function inBatches<T>(
  items: T[],
  size: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(work));
}

/** The files test/fixtures/commands/sleep-write.mjs leaves for a task with `parts` parts. */
export function sleepWriteFiles(parts: number): string[] {
  const files = ['outputs.json', 'summary.txt'];
  for (let i = 0; i < parts; i++) files.push(`parts/part-${i}.txt`);
  return files.sort();
}

export interface ResultCheck {
  records: number;
  objects: number;
}

/**
 * Checks what a dispatch of sleep-write.mjs left behind: exactly one record per expected task
 * (identified by its asset and its `k` parameter), no other record, and under every record's
 * prefix exactly the files its task wrote plus metadata.nd.json (a copy of the record), each
 * naming that task; no other result object in the bucket, and no task lock left over.
 */
export async function checkSleepWriteResults(
  stack: TestStack,
  expected: {
    assets: string[];
    ks: number[];
    partsOf: (k: number) => number;
    /** Only the records of this analysis version, and only objects under `<prefix>/`. */
    version?: string;
    prefix?: string;
  },
): Promise<ResultCheck> {
  const records = await recordsOf(stack)
    .find(expected.version ? { analysis_version: expected.version } : {})
    .toArray();
  const under = expected.prefix ? `${expected.prefix}/` : '';
  const wanted = new Set(expected.assets.flatMap((asset) => expected.ks.map((k) => `${asset}#${k}`)));
  const seen = new Map<string, string>();
  for (const record of records) {
    const key = `${record.input.asset_name.join(',')}#${String(recordFacts(record).parameters.k)}`;
    assert.ok(wanted.has(key), `record ${record._id} is for no expected task (${key})`);
    assert.ok(!seen.has(key), `task ${key} has two records: ${seen.get(key)} and ${record._id}`);
    seen.set(key, record._id);
  }
  assert.equal(records.length, wanted.size, `records expected ${wanted.size}, found ${records.length}`);

  const allKeys = (await listKeys(stack.s3, stack.bucket, under)).filter((key) => !key.startsWith('data/'));
  const expectedKeys: string[] = [];
  for (const record of records) {
    const files = sleepWriteFiles(expected.partsOf(Number(recordFacts(record).parameters.k)));
    assert.deepEqual(record.files, files, `files of record ${record._id}`);
    assert.equal(record.location, `s3://${stack.bucket}/${under}${record._id}`);
    expectedKeys.push(...[...files, 'metadata.nd.json'].map((file) => `${under}${record._id}/${file}`));
  }
  assert.deepEqual(allKeys, expectedKeys.sort(), 'result objects in the bucket');

  // Every object says which task wrote it: a rerun that left another attempt's files would show.
  await inBatches(records, 25, async (record) => {
    assert.equal(await readText(stack, `${under}${record._id}/summary.txt`), `${record._id}\n`);
    const copy = JSON.parse(await readText(stack, `${under}${record._id}/metadata.nd.json`));
    assert.deepEqual(copy, JSON.parse(JSON.stringify(record)), `metadata.nd.json of ${record._id}`);
  });
  const locks = stack.mongo
    .db(stack.config.DOCDB_DATABASE)
    .collection(`${stack.config.DOCDB_COLLECTION}_locks`);
  assert.equal(await locks.countDocuments(), 0, 'task locks left behind');
  return { records: records.length, objects: allKeys.length };
}
