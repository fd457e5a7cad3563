import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli';
import { seedAssets } from '../helpers/data';
import { listKeys } from '../helpers/stack';
import { activityOutcomes, jobWorkflowIds } from './helpers/history';
import { readText, recordsOf } from './helpers/results';
import { COMMANDS, faultSetup, type FaultSetup } from './helpers/setup';

describe('results folders and command arguments', () => {
  let setup: FaultSetup;

  before(async () => {
    setup = await faultSetup('resultsdir');
    await seedAssets(setup.stack, { count: 1, namePrefix: 'results' });
    await setup.workers.start();
  });
  after(async () => setup?.close());

  async function dispatch(spec: unknown[]) {
    const result = await runCli(
      [
        'dispatch',
        '--query',
        '{"name": "results_0000"}',
        '--analysis_spec',
        setup.writeJson(`spec-${Date.now()}.json`, spec),
        '--wait',
        '--json',
      ],
      setup.env,
    );
    const outcome = JSON.parse(result.stdout || '{}');
    assert.ok(outcome.dispatch_id, result.stdout + result.stderr);
    const [run] = (
      await activityOutcomes(setup.stack.client, jobWorkflowIds(`dispatch-${outcome.dispatch_id}`, 1)[0]!)
    ).filter((activity) => activity.activityType === 'runTask');
    return { result, outcome, run };
  }

  test('a symlink pointing outside the results folder fails the task, naming it; nothing is uploaded', async () => {
    const outside = join(setup.dir, 'private.txt');
    writeFileSync(outside, 'not for the bucket\n');
    const { result, outcome, run } = await dispatch([
      {
        analysis_name: 'Symlink Out',
        analysis_version: '1',
        command: ['node', `${COMMANDS}/symlink-out.mjs`, outside, 'leak.txt'],
      },
    ]);
    assert.equal(result.code, 1, result.stderr);
    assert.equal(outcome.progress.counts.failed, 1);
    assert.match(outcome.progress.failures[0].error, /leak\.txt is a symlink leaving the results folder/);
    assert.equal(run?.status, 'failed');
    assert.equal(run?.failureType, 'UnsafeResults');
    assert.equal(run?.attempt, 1, 'not retried: the same program would leave the same link');
    assert.equal(await recordsOf(setup.stack).countDocuments(), 0);
    const hash = outcome.progress.failures[0].hash as string;
    assert.deepEqual(await listKeys(setup.stack.s3, setup.stack.bucket, `${hash}/`), []);
  });

  test('a symlink to a file inside the results folder is uploaded as that file', async () => {
    const { result } = await dispatch([
      {
        analysis_name: 'Symlink In',
        analysis_version: '1',
        command: ['node', `${COMMANDS}/symlink-out.mjs`, 'fine.txt', 'alias.txt'],
      },
    ]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const [record] = await recordsOf(setup.stack).find({ analysis_name: 'Symlink In' }).toArray();
    assert.ok(record);
    assert.deepEqual(await listKeys(setup.stack.s3, setup.stack.bucket, `${record._id}/`), [
      `${record._id}/alias.txt`,
      `${record._id}/fine.txt`,
      `${record._id}/metadata.nd.json`,
    ]);
    assert.equal(await readText(setup.stack, `${record._id}/alias.txt`), 'fine\n');
  });

  test('a command is never run through a shell: each argument arrives whole, nothing is executed', async () => {
    const victim = join(setup.dir, 'victim.txt');
    writeFileSync(victim, 'still here\n');
    const pwned = join(setup.dir, 'pwned');
    const args = [
      `; rm -rf ${victim}`,
      `$(touch ${pwned}-1)`,
      `\`touch ${pwned}-2\``,
      `&& touch ${pwned}-3`,
      `| tee ${pwned}-4`,
      `> ${pwned}-5`,
      '*',
      'two words',
      "'quoted'",
    ];
    const { result } = await dispatch([
      {
        analysis_name: 'Echo Args',
        analysis_version: '1',
        command: ['node', `${COMMANDS}/echo-args.mjs`, ...args],
      },
    ]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const [record] = await recordsOf(setup.stack).find({ analysis_name: 'Echo Args' }).toArray();
    assert.ok(record);
    assert.deepEqual(JSON.parse(await readText(setup.stack, `${record._id}/args.json`)), args);
    assert.ok(existsSync(victim), 'the file named after "; rm -rf" survives');
    for (let i = 1; i <= 5; i++) assert.ok(!existsSync(`${pwned}-${i}`), `nothing ran ${pwned}-${i}`);
  });
});
