import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { folderOf } from '../../src/storage/task-commit';
import { METADATA_FILE } from '../../src/task-record';
import type { StoredRecord } from '../../src/types';
import { seedAssets } from '../helpers/data';
import { listKeys } from '../helpers/stack';
import { startDispatch } from './helpers/dispatch';
import { COMMANDS, faultSetup, type FaultSetup } from './helpers/setup';

/** Enough result files that a rerun's upload lasts long enough to be killed in the middle. */
const PARTS = 1500;

/**
 * A forced rerun whose worker is killed (SIGKILL) while it uploads: the earlier record and every
 * object it names stay as they were, its `metadata.nd.json` still that record; the rerun, taken
 * up by another worker, then replaces them whole, and nothing of the killed attempt is left.
 */
describe('worker kill -9 during a rerun’s upload', () => {
  let setup: FaultSetup;

  before(async () => {
    setup = await faultSetup('rerunkill');
    await seedAssets(setup.stack, { count: 1, namePrefix: 'rerun' });
    await setup.workers.start();
  });
  after(async () => setup?.close());

  const records = () =>
    setup.stack.mongo
      .db(setup.stack.config.DOCDB_DATABASE)
      .collection<StoredRecord>(setup.stack.config.DOCDB_COLLECTION);

  /** The task's one record, with its copy equal to it and every object it names in place. */
  async function wholeRecord(): Promise<StoredRecord> {
    const found = await records().find({}).toArray();
    assert.equal(found.length, 1, 'one record');
    const record = found[0]!;
    const { bucket, prefix } = folderOf(record.location);
    const keys = new Set(await listKeys(setup.stack.s3, bucket, prefix));
    const missing = (record.files ?? []).filter((file) => !keys.has(prefix + file));
    assert.deepEqual(missing.slice(0, 5), [], `${missing.length} objects the record names are missing`);
    const copy = await setup.stack.s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: prefix + METADATA_FILE }),
    );
    assert.deepEqual(
      JSON.parse(await copy.Body!.transformToString()),
      JSON.parse(JSON.stringify(record)),
      'metadata.nd.json is the record',
    );
    return record;
  }

  test('the earlier record stays whole until the rerun’s own objects replace it', async () => {
    const spec = setup.writeJson('spec.json', [
      {
        analysis_name: 'Sleep Write',
        analysis_version: '1',
        command: ['node', `${COMMANDS}/sleep-write.mjs`],
      },
    ]);
    const parameters = setup.writeJson('parameters.json', { fixed_parameters: { ms: 50, parts: PARTS } });
    const args = ['--query', '{"name": {"$regex": "^rerun_"}}', '--analysis_spec', spec];
    const first = await startDispatch(
      setup.stack.client,
      [...args, '--analysis_parameters', parameters],
      setup.env,
    );
    assert.equal((await first.cli).code, 0, (await first.cli).stderr);
    const earlier = await wholeRecord();
    const hash = earlier._id;
    const earlierKeys = (await listKeys(setup.stack.s3, setup.stack.bucket, `${hash}/`)).sort();

    const rerun = await startDispatch(
      setup.stack.client,
      [...args, '--analysis_parameters', parameters, '--force'],
      setup.env,
    );
    // The moment the task's folder changes, the rerun's upload is under way: kill its worker.
    const deadline = Date.now() + 5 * 60_000;
    for (;;) {
      const keys = (await listKeys(setup.stack.s3, setup.stack.bucket, `${hash}/`)).sort();
      if (keys.join('\n') !== earlierKeys.join('\n')) break;
      assert.ok(Date.now() < deadline, 'the rerun never started its upload');
      await delay(20);
    }
    for (const worker of setup.workers.running()) await worker.kill9();

    try {
      const standing = await wholeRecord();
      assert.equal(
        standing.dispatch_id,
        earlier.dispatch_id,
        'the kill landed before the record was replaced',
      );
      assert.deepEqual(standing, earlier);
      const keys = await listKeys(setup.stack.s3, setup.stack.bucket, `${hash}/`);
      for (const key of earlierKeys) assert.ok(keys.includes(key), `${key} is still there`);
    } finally {
      // Another worker takes the rerun up again from the start (and ends it, whatever was found).
      await setup.workers.start();
    }
    const cli = await rerun.cli;
    assert.equal(cli.code, 0, `${cli.stdout}\n${cli.stderr}`);
    const replaced = await wholeRecord();
    assert.notEqual(replaced.dispatch_id, earlier.dispatch_id);
    const { prefix } = folderOf(replaced.location);
    const left = await listKeys(setup.stack.s3, setup.stack.bucket, `${hash}/`);
    assert.deepEqual(
      left.filter((key) => !key.startsWith(prefix)),
      [],
      'nothing of the earlier run or of the killed attempt is left',
    );
    assert.equal(left.length, (replaced.files ?? []).length + 1);
  });
});
