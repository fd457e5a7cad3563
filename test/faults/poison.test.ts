import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli';
import { seedAssets } from '../helpers/data';
import { listKeys } from '../helpers/stack';
import { dispatchHandle, readClosedOutcome } from '../../src/client/follow/reads';
import { reportFigures } from './helpers/figures';
import { activityOutcomes, jobWorkflowIds, type ActivityOutcome } from './helpers/history';
import { recordsOf } from './helpers/results';
import { alive } from './helpers/servers';
import { COMMANDS, faultSetup, type FaultSetup } from './helpers/setup';

/** A process's parent and process group, from /proc. */
function processStat(pid: number): { parent: number; group: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const [, parent, group] = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  return { parent: parent ?? 0, group: group ?? 0 };
}

const dispatchIdOf = (stdout: string): string => /^dispatch (\S+)$/m.exec(stdout)?.[1] ?? '';

describe('poison and hanging tasks', () => {
  let setup: FaultSetup;

  before(async () => {
    setup = await faultSetup('poison');
    await seedAssets(setup.stack, { count: 1, namePrefix: 'poison' });
    await seedAssets(setup.stack, { count: 1, namePrefix: 'hang' });
    await setup.workers.start();
  });
  after(async () => setup?.close());

  /** Runs a dispatch through the CLI with --wait, and reads its outcome and its run steps' fates. */
  async function dispatchAndWait(query: string, spec: unknown[], extra: string[] = []) {
    const started = Date.now();
    const result = await runCli(
      [
        'dispatch',
        '--query',
        JSON.stringify({ name: { $regex: query } }),
        '--analysis_spec',
        setup.writeJson(`spec-${started}.json`, spec),
        ...extra,
        '--num_parallel_workers',
        '3',
        '--wait',
      ],
      setup.env,
      { timeoutMs: 5 * 60_000 },
    );
    const seconds = (Date.now() - started) / 1000;
    const id = dispatchIdOf(result.stdout);
    assert.ok(id, `no dispatch id in:\n${result.stdout}\n${result.stderr}`);
    const outcome = await readClosedOutcome(dispatchHandle(setup.stack.client, id));
    const jobs = outcome.progress?.plan?.jobs ?? 0;
    const runs: ActivityOutcome[] = [];
    for (const workflowId of jobWorkflowIds(`dispatch-${id}`, jobs))
      runs.push(
        ...(await activityOutcomes(setup.stack.client, workflowId)).filter(
          (a) => a.activityType === 'runTask',
        ),
      );
    return { result, outcome, runs, seconds };
  }

  test('a poison task fails alone after its retries; the rest complete; the summary names it; exit non-zero', async (t) => {
    const parameters = setup.writeJson('poison-parameters.json', {
      distributed_parameters: [0, 1, 2, 3, 4]
        .map((ms) => ({ fail: false, ms }))
        .concat([{ fail: true, ms: 0 }]),
    });
    const { result, outcome, runs, seconds } = await dispatchAndWait(
      '^poison_',
      [{ analysis_name: 'Fail When', analysis_version: 'poison' }],
      ['--analysis_parameters', parameters],
    );
    assert.equal(result.code, 1, `--wait must exit non-zero:\n${result.stdout}\n${result.stderr}`);
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.errorType, 'TasksFailed');
    assert.deepEqual(
      { succeeded: outcome.progress?.counts.succeeded, failed: outcome.progress?.counts.failed },
      { succeeded: 5, failed: 1 },
    );
    const [failure] = outcome.progress?.failures ?? [];
    assert.ok(failure, 'the failure is listed');
    assert.equal(failure.asset_name, 'poison_0000');
    assert.match(failure.error, /poisoned task: fail is true/);
    // The summary the user sees names the task, its asset and its error.
    const summary = result.stdout + result.stderr;
    assert.match(summary, new RegExp(failure.hash.slice(0, 12)));
    assert.match(summary, /poison_0000/);
    assert.match(summary, /poisoned task: fail is true/);
    assert.match(summary, /1 of 6 tasks failed/);

    const failed = runs.filter((run) => run.status !== 'completed');
    assert.equal(failed.length, 1, `one run step failed: ${JSON.stringify(runs)}`);
    assert.equal(failed[0]!.attempt, 3, 'tried the default 3 times');
    assert.equal(failed[0]!.retryState, 'MAXIMUM_ATTEMPTS_REACHED');
    assert.equal(runs.filter((run) => run.status === 'completed' && run.attempt === 1).length, 5);

    const records = await recordsOf(setup.stack).find({ analysis_version: 'poison' }).toArray();
    assert.equal(records.length, 5);
    assert.ok(!records.some((record) => record._id === failure.hash));
    assert.deepEqual(await listKeys(setup.stack.s3, setup.stack.bucket, `${failure.hash}/`), []);
    reportFigures(t, {
      tasks: 6,
      records_expected: 5,
      records_found: records.length,
      poison_attempts: failed[0]!.attempt,
      dispatch_s: seconds,
    });
  });

  test('a hanging TypeScript analysis is stopped by its timeout, attempt after attempt', async (t) => {
    const { result, outcome, runs, seconds } = await dispatchAndWait('^hang_', [
      {
        analysis_name: 'Sleep',
        analysis_version: 'hang-ts',
        analysis_parameters: { ms: 600_000 },
        timeout: '3 seconds',
        max_attempts: 2,
      },
    ]);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.equal(outcome.progress?.counts.failed, 1);
    assert.match(outcome.progress?.failures[0]?.error ?? '', /time/i);
    assert.equal(runs.length, 1);
    assert.equal(runs[0]!.status, 'timed_out');
    assert.equal(runs[0]!.failureType, 'Timeout:START_TO_CLOSE');
    assert.equal(runs[0]!.attempt, 2);
    assert.ok(seconds < 60, `stopped by its 3 s timeout, not its 10 minutes (took ${seconds} s)`);
    assert.equal(await recordsOf(setup.stack).countDocuments({ analysis_version: 'hang-ts' }), 0);
    reportFigures(t, { timeout_s: 3, attempts: runs[0]!.attempt, dispatch_s: seconds });
  });

  test('a command that hangs without a word is killed when its timeout passes', async (t) => {
    const pidFile = join(setup.dir, 'hang-pids.txt');
    const { result, outcome, runs, seconds } = await dispatchAndWait('^hang_', [
      {
        analysis_name: 'Hang',
        analysis_version: 'hang-command',
        command: ['node', `${COMMANDS}/hang.mjs`, pidFile],
        timeout: '4 seconds',
        max_attempts: 2,
      },
    ]);
    const ended = Date.now();
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.equal(outcome.progress?.counts.failed, 1);
    assert.equal(runs[0]?.status, 'timed_out');
    assert.equal(runs[0]?.attempt, 2);
    assert.ok(existsSync(pidFile), 'the command ran');
    const pids = readFileSync(pidFile, 'utf8').trim().split('\n').map(Number);
    assert.equal(pids.length, 2, `one program per attempt: ${pids.join(', ')}`);
    // The worker learns of the timeout and stops the program group (SIGTERM, SIGKILL after a grace).
    const deadline = Date.now() + 30_000;
    while (pids.some(alive) && Date.now() < deadline) await delay(250);
    const left = pids.filter(alive);
    assert.deepEqual(left, [], `programs still running after their timeout: ${left.join(', ')}`);
    reportFigures(t, {
      timeout_s: 4,
      attempts: runs[0]?.attempt,
      dispatch_s: seconds,
      gone_after_dispatch_end_s: (Date.now() - ended) / 1000,
    });
  });

  test('the command a worker was running does not outlive the worker when it is killed with SIGKILL', async (t) => {
    const pidFile = join(setup.dir, 'orphan-pids.txt');
    const victim = await setup.workers.start();
    const result = await runCli(
      [
        'dispatch',
        '--query',
        '{"name": "hang_0000"}',
        '--analysis_spec',
        setup.writeJson('orphan.json', [
          {
            analysis_name: 'Hang',
            analysis_version: 'orphan',
            command: ['node', `${COMMANDS}/hang.mjs`, pidFile],
            max_attempts: 1,
          },
        ]),
        '--json',
      ],
      setup.env,
    );
    assert.equal(result.code, 0, result.stderr);
    const dispatchId = JSON.parse(result.stdout).dispatch_id as string;
    try {
      const deadline = Date.now() + 60_000;
      while (!existsSync(pidFile) && Date.now() < deadline) await delay(200);
      const pid = Number(readFileSync(pidFile, 'utf8').trim().split('\n')[0]);
      const { group } = processStat(pid);
      // The worker starts the program itself: the worker is an ancestor.
      const ancestors: number[] = [];
      for (let ancestor = processStat(pid).parent; ancestor > 1; ancestor = processStat(ancestor).parent)
        ancestors.push(ancestor);
      const holder = setup.workers.all.find((worker) => ancestors.includes(worker.pid));
      assert.ok(holder, `an ancestor of the program (${ancestors.join(', ')}) is one of the test's workers`);
      await holder.kill9();
      const killed = Date.now();
      while (alive(pid) && Date.now() - killed < 3_000) await delay(50);
      const orphaned = alive(pid);
      if (orphaned) process.kill(-group, 'SIGKILL');
      reportFigures(t, {
        killed_worker: holder.pid,
        program: pid,
        program_outlived_worker: orphaned,
        program_gone_after_ms: orphaned ? null : Date.now() - killed,
      });
      assert.ok(!orphaned, `program ${pid} still runs 3 s after its worker ${holder.pid} was killed`);
    } finally {
      // The task's only worker may be gone: end the dispatch and its job rather than wait.
      for (const id of [`dispatch-${dispatchId}`, `dispatch-${dispatchId}-job-0`])
        await setup.stack.client.workflow
          .getHandle(id)
          .terminate('fault test over')
          .catch(() => undefined);
      await victim.stop();
    }
  });
});
