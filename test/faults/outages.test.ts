import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test, type TestContext } from 'node:test';
import { seedAssets } from '../helpers/data';
import { startDispatch } from './helpers/dispatch';
import { reportFigures } from './helpers/figures';
import { checkSleepWriteResults, recordsOf } from './helpers/results';
import { outage, stackUp, type Server } from './helpers/servers';
import { COMMANDS, faultSetup, type FaultSetup } from './helpers/setup';

const ASSETS = 16;
const KS = [0, 1, 2];
const TASKS = ASSETS * KS.length;
const OUTAGE_MS = 30_000;
const partsOf = (k: number) => 1 + k;

/**
 * A server of the local stack dies mid-dispatch (SIGKILL) and comes back 30 s later through
 * ./temporal-dev.sh up; the dispatch, followed by `dispatch --wait`, completes with exactly one
 * record and one set of objects per task. The workers are separate processes that are never
 * restarted: they must find their way back to the server by themselves.
 */
describe('server outages mid-dispatch', () => {
  let setup: FaultSetup;
  let assets: string[];

  before(async () => {
    setup = await faultSetup('outage');
    assets = await seedAssets(setup.stack, { count: ASSETS, namePrefix: 'outage' });
    await Promise.all([setup.workers.start(), setup.workers.start()]);
  });
  after(async () => {
    // Whatever happened, the next test file finds the whole stack up.
    await stackUp();
    await setup?.close();
  });

  async function dispatchThrough(t: TestContext, server: Server): Promise<void> {
    const version = `outage-${server}`;
    const spec = setup.writeJson(`${version}.json`, [
      {
        analysis_name: 'Sleep Write',
        analysis_version: version,
        command: ['node', `${COMMANDS}/sleep-write.mjs`],
        s3_output_bucket: `${setup.stack.bucket}/${version}`,
      },
    ]);
    const parameters = setup.writeJson(`${version}-parameters.json`, {
      fixed_parameters: { ms: 300 },
      distributed_parameters: KS.map((k) => ({ k, parts: partsOf(k) })),
    });
    const dispatch = await startDispatch(
      setup.stack.client,
      [
        '--query',
        '{"name": {"$regex": "^outage_"}}',
        '--analysis_spec',
        spec,
        '--analysis_parameters',
        parameters,
        '--tasks_per_job',
        '3',
        '--num_parallel_workers',
        '6',
      ],
      setup.env,
    );
    await dispatch.until((p) => p.tasks_finished >= 8, 5 * 60_000);
    // Progress is counted in records, straight from the database: the test's own Temporal client
    // reconnects with a backoff of its own after an outage, which says nothing about the system.
    const records = () => recordsOf(setup.stack).countDocuments({ analysis_version: version });
    const atKill = await records();
    const cut = await outage(server, OUTAGE_MS);
    const back = Date.now();
    const atRestart = await records();
    while ((await records()) === atRestart && Date.now() - back < 5 * 60_000) await delay(250);
    const recoverMs = Date.now() - back;

    const cli = await dispatch.cli;
    assert.equal(
      cli.code,
      0,
      `dispatch --wait failed${dispatch.stuck() ? ` (${dispatch.stuck()})` : ''}:\n${cli.stdout}\n${cli.stderr}`,
    );
    const result = await dispatch.handle.result();
    assert.equal(result.phase, 'completed');
    assert.deepEqual(
      [result.counts.succeeded, result.counts.failed, result.counts.skipped, result.counts.cancelled],
      [TASKS, 0, 0, 0],
    );
    const found = await checkSleepWriteResults(setup.stack, {
      assets,
      ks: KS,
      partsOf,
      version,
      prefix: version,
    });
    reportFigures(t, {
      server,
      tasks_expected: TASKS,
      records_found: found.records,
      objects_found: found.objects,
      records_at_kill: atKill,
      records_at_restart: atRestart,
      outage_s: cut.downMs / 1000,
      restart_s: cut.restartMs / 1000,
      first_record_after_restart_s: recoverMs / 1000,
      dispatch_s: cli.ms / 1000,
    });
  }

  test('S3 (versitygw) down for 30 s: completes, nothing lost, nothing duplicated', (t) =>
    dispatchThrough(t, 'versitygw'));

  test('database (FerretDB) down for 30 s: completes, nothing lost, nothing duplicated', (t) =>
    dispatchThrough(t, 'ferretdb'));

  test('Temporal down for 30 s: completes, nothing lost, nothing duplicated; workers reconnect', (t) =>
    dispatchThrough(t, 'temporal'));
});
