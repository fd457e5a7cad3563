import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { folderOf } from '../../src/storage/task-commit';
import { TEST_PAUSE_POINTS } from '../../src/storage/test-pause';
import { METADATA_FILE } from '../../src/task-record';
import type { StoredRecord } from '../../src/types';
import { seedAssets } from '../helpers/data';
import { listKeys } from '../helpers/stack';
import { startDispatch } from './helpers/dispatch';
import { readText } from './helpers/results';
import { COMMANDS, faultSetup, type FaultSetup } from './helpers/setup';

/**
 * A forced rerun whose worker is killed (SIGKILL) at a chosen point of its task's commit: after
 * its upload, after its record was written, and between the record and the lock's release. The
 * worker is held at that point by its test-only pause (src/storage/test-pause.ts), so the kill
 * lands there every time. Every attempt writes a key named after itself, so anything an
 * interrupted attempt left would show. Once another worker has ended the dispatch, the task has
 * one record, its `metadata.nd.json` is that record, its folder holds exactly the objects the
 * record names, and no lock is left.
 */
describe('worker kill -9 at a chosen point of a task’s commit', () => {
  let setup: FaultSetup;
  let assets: string[];
  let spec: string;
  let parameters: string;

  const records = () =>
    setup.stack.mongo
      .db(setup.stack.config.DOCDB_DATABASE)
      .collection<StoredRecord>(setup.stack.config.DOCDB_COLLECTION);
  const locks = () =>
    setup.stack.mongo
      .db(setup.stack.config.DOCDB_DATABASE)
      .collection<{ _id: string }>(`${setup.stack.config.DOCDB_COLLECTION}_locks`);
  const dispatchOf = (asset: string, force: boolean) =>
    startDispatch(
      setup.stack.client,
      [
        '--query',
        JSON.stringify({ name: asset }),
        '--analysis_spec',
        spec,
        '--analysis_parameters',
        parameters,
        ...(force ? ['--force'] : []),
      ],
      setup.env,
    );

  before(async () => {
    setup = await faultSetup('commitpoints');
    assets = await seedAssets(setup.stack, { count: TEST_PAUSE_POINTS.length, namePrefix: 'point' });
    spec = setup.writeJson('spec.json', [
      {
        analysis_name: 'Sleep Write',
        analysis_version: '1',
        command: ['node', `${COMMANDS}/sleep-write.mjs`],
      },
    ]);
    parameters = setup.writeJson('parameters.json', {
      fixed_parameters: { ms: 50, parts: 3, attempt_key: true },
    });
    // Every task has a record of a first run, which each test's forced rerun replaces.
    const worker = await setup.workers.start();
    for (const asset of assets) {
      const first = await dispatchOf(asset, false);
      const cli = await first.cli;
      assert.equal(cli.code, 0, `${cli.stdout}\n${cli.stderr}`);
    }
    await worker.stop();
  });
  after(async () => setup?.close());

  /** The asset's one record, with its copy equal to it and every object it names in place. */
  async function wholeRecord(asset: string): Promise<{ record: StoredRecord; keys: string[] }> {
    const found = await records().find({ 'input.asset_name': asset }).toArray();
    assert.equal(found.length, 1, `one record of ${asset}`);
    const record = found[0]!;
    const { bucket, prefix } = folderOf(record.location);
    const keys = await listKeys(setup.stack.s3, bucket, `${record._id}/`);
    const named = [...(record.files ?? []), METADATA_FILE].map((file) => prefix + file);
    const missing = named.filter((key) => !keys.includes(key));
    assert.deepEqual(missing, [], 'objects the record names are missing');
    assert.deepEqual(
      JSON.parse(await readText(setup.stack, prefix + METADATA_FILE)),
      JSON.parse(JSON.stringify(record)),
      'metadata.nd.json is the record',
    );
    assert.equal(
      (record.files ?? []).filter((file) => file.startsWith('attempt-')).length,
      1,
      'the record names the key of one attempt',
    );
    return { record, keys };
  }

  const lockHeld = async (hash: string) => (await locks().countDocuments({ _id: hash })) === 1;

  for (const [index, point] of TEST_PAUSE_POINTS.entries()) {
    test(`killed ${point}: one record, its objects and nothing else, no lock`, async () => {
      const asset = assets[index]!;
      const earlier = await wholeRecord(asset);
      const hash = earlier.record._id;
      const pauseFile = join(setup.dir, `${point}.jsonl`);
      const paused = await setup.workers.start({
        ANALYSIS_TEST_PAUSE_AT: point,
        ANALYSIS_TEST_PAUSE_FILE: pauseFile,
      });
      const rerun = await dispatchOf(asset, true);

      const deadline = Date.now() + 3 * 60_000;
      while (!existsSync(pauseFile)) {
        assert.ok(Date.now() < deadline, `the worker never reached ${point}`);
        await delay(20);
      }
      const at = JSON.parse(readFileSync(pauseFile, 'utf8').split('\n')[0]!) as unknown;
      assert.deepEqual(at, { at: point, task: hash, pid: paused.pid });

      // What the kill interrupts, as the worker left it at that point.
      const keysAtKill = await listKeys(setup.stack.s3, setup.stack.bucket, `${hash}/`);
      const interrupted = keysAtKill.filter((key) => !earlier.keys.includes(key));
      assert.ok(interrupted.length > 0, 'the interrupted attempt had uploaded its objects');
      assert.ok(await lockHeld(hash), 'the task’s lock is still held');
      let committed: StoredRecord | undefined;
      if (point === 'after-upload') {
        assert.deepEqual((await wholeRecord(asset)).record, earlier.record, 'the earlier record stands');
      } else {
        committed = (await wholeRecord(asset)).record;
        assert.equal(committed.dispatch_id, rerun.id, 'the rerun’s record was written');
        const removed = earlier.keys.every((key) => !keysAtKill.includes(key));
        assert.equal(removed, point === 'before-lock-release', 'the earlier objects removed only then');
      }
      await paused.kill9();

      const taker = await setup.workers.start();
      try {
        const cli = await rerun.cli;
        assert.equal(cli.code, 0, `${cli.stdout}\n${cli.stderr}`);
      } finally {
        await taker.stop();
      }
      const final = await wholeRecord(asset);
      assert.equal(final.record.dispatch_id, rerun.id);
      const { prefix } = folderOf(final.record.location);
      assert.deepEqual(
        final.keys,
        [...(final.record.files ?? []), METADATA_FILE].map((file) => prefix + file).sort(),
        'the task’s folder holds the record’s objects and nothing else',
      );
      if (committed) assert.deepEqual(final.record, committed, 'the record the killed attempt wrote stands');
      else
        assert.deepEqual(
          interrupted.filter((key) => final.keys.includes(key)),
          [],
          'nothing of the killed attempt is left',
        );
      assert.deepEqual(
        (await listKeys(setup.stack.s3, setup.stack.bucket)).filter((key) => key.endsWith('.uploading')),
        [],
        'no upload’s marker left',
      );
      assert.equal(await locks().countDocuments(), 0, 'no task lock left');
      assert.equal(await records().countDocuments(), assets.length, 'one record per task');
    });
  }
});
