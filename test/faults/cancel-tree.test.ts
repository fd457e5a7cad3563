import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli';
import { seedAssets } from '../helpers/data';
import { startDispatch } from './helpers/dispatch';
import { reportFigures } from './helpers/figures';
import { alive } from './helpers/servers';
import { descendsFrom, processesWith } from './helpers/processes';
import { recordsOf } from './helpers/results';
import { COMMANDS, faultSetup, type FaultSetup } from './helpers/setup';

/** spawn-tree.py at depth 2: the program, its two children and their four, 7 processes. */
const TREE_SIZE = 7;

/**
 * `cancel` of a dispatch while its command analysis runs as a tree of processes, some of which
 * ignore SIGTERM: once `cancel` has returned, no process of the tree is left, found by the pids
 * the tree wrote and by the marker in every member's command line.
 */
describe('cancel of a running command analysis', () => {
  let setup: FaultSetup;

  before(async () => {
    setup = await faultSetup('canceltree');
    await seedAssets(setup.stack, { count: 1, namePrefix: 'tree' });
    await setup.workers.start();
  });
  after(async () => setup?.close());

  test('stops the analysis’s whole process tree', async (t) => {
    const marker = `spawn-tree-${randomBytes(6).toString('hex')}`;
    const pidFile = join(setup.dir, 'tree-pids.txt');
    const spec = setup.writeJson('spec.json', [
      {
        analysis_name: 'Spawn Tree',
        analysis_version: '1',
        command: ['python3', `${COMMANDS}/spawn-tree.py`, marker, pidFile],
      },
    ]);
    const dispatch = await startDispatch(
      setup.stack.client,
      ['--query', '{"name": {"$regex": "^tree_"}}', '--analysis_spec', spec],
      setup.env,
    );
    const pids = () =>
      existsSync(pidFile) ? readFileSync(pidFile, 'utf8').trim().split('\n').map(Number) : [];
    const deadline = Date.now() + 3 * 60_000;
    while (pids().length < TREE_SIZE || processesWith(marker).length < TREE_SIZE) {
      assert.ok(Date.now() < deadline, `the tree never grew whole: ${pids().join(', ')}`);
      await delay(100);
    }
    const tree = pids();
    assert.deepEqual(processesWith(marker).sort(), [...tree].sort(), 'the marker finds the tree');
    const workers = setup.workers.running().map((worker) => worker.pid);
    assert.ok(
      tree.every((pid) => workers.some((worker) => descendsFrom(pid, worker))),
      'every member runs under the test’s worker',
    );

    const asked = Date.now();
    const cancelled = await runCli(['cancel', dispatch.id], setup.env, { timeoutMs: 3 * 60_000 });
    assert.equal(cancelled.code, 0, `${cancelled.stdout}\n${cancelled.stderr}`);
    const cancelMs = Date.now() - asked;
    // `cancel` returns once the jobs stopped, and a job stops once its program's group is gone.
    const left = tree.filter(alive);
    const marked = processesWith(marker);
    if (left.length || marked.length)
      for (const pid of new Set([...left, ...marked])) process.kill(pid, 'SIGKILL');
    assert.deepEqual(left, [], 'members of the tree still alive after cancel');
    assert.deepEqual(marked, [], 'processes with the tree’s marker still alive after cancel');

    const cli = await dispatch.cli;
    assert.equal(cli.code, 3, `the dispatch ends cancelled:\n${cli.stdout}\n${cli.stderr}`);
    assert.equal(await recordsOf(setup.stack).countDocuments(), 0, 'no record of the cancelled run');
    reportFigures(t, { tree_size: tree.length, cancel_s: cancelMs / 1000 });
  });
});
