import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { seedAssets } from '../helpers/data';
import { startDispatch } from './helpers/dispatch';
import { reportFigures } from './helpers/figures';
import { checkSleepWriteResults } from './helpers/results';
import { COMMANDS, faultSetup, type FaultSetup } from './helpers/setup';

const ASSETS = 50;
const PARAMETER_SETS = 10;
const TASKS = ASSETS * PARAMETER_SETS;
const KILLS = 5;
const partsOf = (k: number) => 1 + (k % 3);

describe('worker kill -9', () => {
  let setup: FaultSetup;
  let assets: string[];

  before(async () => {
    setup = await faultSetup('workerkill');
    assets = await seedAssets(setup.stack, { count: ASSETS, namePrefix: 'kill' });
    await Promise.all([setup.workers.start(), setup.workers.start()]);
  });
  after(async () => setup?.close());

  test(`${KILLS} kills during a ${TASKS}-task dispatch: it completes, one record and one set of objects per task`, async (t) => {
    const spec = setup.writeJson('spec.json', [
      {
        analysis_name: 'Sleep Write',
        analysis_version: '1',
        command: ['node', `${COMMANDS}/sleep-write.mjs`],
      },
    ]);
    const ks = Array.from({ length: PARAMETER_SETS }, (_, k) => k);
    const parameters = setup.writeJson('parameters.json', {
      fixed_parameters: { ms: 50 },
      distributed_parameters: ks.map((k) => ({ k, parts: partsOf(k) })),
    });
    const started = Date.now();
    const dispatch = await startDispatch(
      setup.stack.client,
      [
        '--query',
        '{"name": {"$regex": "^kill_"}}',
        '--analysis_spec',
        spec,
        '--analysis_parameters',
        parameters,
        '--tasks_per_job',
        '10',
        '--num_parallel_workers',
        '10',
      ],
      setup.env,
    );

    // Kills spread over the first part of the run, the oldest worker first, each replaced at once.
    const kills: Array<{ pid: number; at_s: number; tasks_finished: number }> = [];
    for (let i = 0; i < KILLS; i++) {
      const progress = await dispatch.until((p) => p.tasks_finished >= 25 + i * 45, 10 * 60_000);
      const [victim] = setup.workers.running();
      assert.ok(victim, 'a worker to kill');
      await victim.kill9();
      kills.push({
        pid: victim.pid,
        at_s: Math.round((Date.now() - started) / 1000),
        tasks_finished: progress.tasks_finished,
      });
      await setup.workers.start();
    }
    const lastKill = Date.now();

    const cli = await dispatch.cli;
    assert.equal(
      cli.code,
      0,
      `dispatch failed${dispatch.stuck() ? ` (${dispatch.stuck()})` : ''}:\n${cli.stdout}\n${cli.stderr}`,
    );
    const result = await dispatch.handle.result();
    assert.equal(result.phase, 'completed');
    assert.equal(result.plan?.tasks_to_run, TASKS);
    assert.deepEqual(
      { ...result.counts, jobs_finished: undefined },
      { succeeded: TASKS, skipped: 0, changed_code: 0, failed: 0, cancelled: 0, jobs_finished: undefined },
    );
    assert.equal(result.counts.jobs_finished, result.plan?.jobs);
    const found = await checkSleepWriteResults(setup.stack, { assets, ks, partsOf });
    const reruns = (setup.workers.logs().match(/worker holding the results is gone/g) ?? []).length;
    reportFigures(t, {
      tasks_expected: TASKS,
      records_found: found.records,
      objects_found: found.objects,
      kills,
      reruns_after_lost_worker: reruns,
      total_s: Math.round(cli.ms / 1000),
      after_last_kill_s: Math.round((Date.now() - lastKill) / 1000),
    });
  });
});
