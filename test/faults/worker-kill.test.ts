import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { seedAssets } from '../helpers/data';
import { startDispatch } from './helpers/dispatch';
import { reportFigures } from './helpers/figures';
import { descendsFrom } from './helpers/processes';
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
    // Each run of the analysis marks its start and its end here, by its pid.
    const marks = join(setup.dir, 'marks');
    mkdirSync(marks);
    const parameters = setup.writeJson('parameters.json', {
      // Long enough that a run the test saw start is still running when the kill's news reaches its
      // supervisor, even on a loaded machine, where that can take a good part of a second.
      fixed_parameters: { ms: 400, marks },
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

    /** Runs of the analysis under `worker` that had started and not finished. */
    const runsUnder = (worker: number) =>
      readdirSync(marks)
        .filter((file) => file.endsWith('.started'))
        .map((file) => Number(file.slice(0, -'.started'.length)))
        .filter((pid) => !existsSync(join(marks, `${pid}.finished`)) && descendsFrom(pid, worker));

    // Kills spread over the first part of the run, the oldest worker first, each replaced at once;
    // each waits a little for a run of the analysis under its victim, so that kills land in runs.
    const kills: Array<{ pid: number; at_s: number; tasks_finished: number; runs_inside: number[] }> = [];
    for (let i = 0; i < KILLS; i++) {
      const progress = await dispatch.until((p) => p.tasks_finished >= 25 + i * 45, 10 * 60_000);
      const [victim] = setup.workers.running();
      assert.ok(victim, 'a worker to kill');
      const waitUntil = Date.now() + 10_000;
      let inside = runsUnder(victim.pid);
      while (!inside.length && Date.now() < waitUntil) {
        await delay(10);
        inside = runsUnder(victim.pid);
      }
      await victim.kill9();
      kills.push({
        pid: victim.pid,
        at_s: Math.round((Date.now() - started) / 1000),
        tasks_finished: progress.tasks_finished,
        runs_inside: inside,
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
    // A run counts as killed when it had started under the victim and never finished: the kill
    // took its whole process group with it.
    const killedRuns = kills.flatMap((kill) =>
      kill.runs_inside.filter((pid) => !existsSync(join(marks, `${pid}.finished`))),
    );
    assert.ok(killedRuns.length >= 1, `no kill landed inside a run: ${JSON.stringify(kills)}`);
    const found = await checkSleepWriteResults(setup.stack, { assets, ks, partsOf });
    const reruns = (setup.workers.logs().match(/worker holding the results is gone/g) ?? []).length;
    reportFigures(t, {
      tasks_expected: TASKS,
      records_found: found.records,
      objects_found: found.objects,
      kills,
      runs_killed: killedRuns.length,
      reruns_after_lost_worker: reruns,
      total_s: Math.round(cli.ms / 1000),
      after_last_kill_s: Math.round((Date.now() - lastKill) / 1000),
    });
  });
});
