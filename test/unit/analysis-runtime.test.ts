import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { projectRoot } from '../../src/analysis/paths';
import { loadRegistry } from '../../src/analysis/registry';
import type { AnalysisRegistry } from '../../src/analysis/definition';
import { type RunAnalysisOptions } from '../../src/analysis/runtime';
import { ErrorType } from '../../src/errors';
import type { AnalysisSpec, Task } from '../../src/types';
import { runInScratch } from '../fixtures/run-analysis';
import { makeTask } from '../fixtures/tasks';

const root = projectRoot();
const ECHO = 'test/fixtures/commands/echo-args.mjs';

function failsWith(type: ErrorType, pattern: RegExp, nonRetryable = true) {
  return (err: unknown) => {
    assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(err)}`);
    assert.equal(err.type, type);
    assert.equal(err.nonRetryable, nonRetryable);
    assert.match(err.message, pattern);
    return true;
  };
}

const python = (code: string, fields: Partial<AnalysisSpec> = {}) =>
  makeTask({ analysis_name: 'Python', command: ['python3', '-c', code], ...fields });

void describe('analysis/runtime', () => {
  let scratch: string;
  let registry: AnalysisRegistry;
  const heartbeats: unknown[] = [];
  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'runner-'));
    registry = await loadRegistry(join(root, 'test/fixtures/analyses'));
  });
  after(() => rm(scratch, { recursive: true, force: true }));

  const run = (task: Task, overrides: Partial<RunAnalysisOptions> = {}) =>
    runInScratch(scratch, task, registry, { heartbeat: (details) => heartbeats.push(details), ...overrides });

  void test('a command runs without a shell; outputs.json becomes the outputs and stays a file', async () => {
    const task = makeTask({
      analysis_name: 'Echo',
      command: ['node', ECHO, 'two words', '; rm -rf /tmp/x', '$HOME'],
    });
    const { outputs, files, resultsDir, workDir } = await run(task);
    assert.deepEqual(outputs, { args: 3 });
    assert.deepEqual(files, ['args.json', 'env.json', 'outputs.json']);
    assert.deepEqual(JSON.parse(await readFile(join(resultsDir, 'args.json'), 'utf8')), [
      'two words',
      '; rm -rf /tmp/x',
      '$HOME',
    ]);
    // Logs and the task file live beside the results, not among them.
    assert.ok(existsSync(join(workDir, 'stdout.log')) && existsSync(join(workDir, 'task.json')));
    assert.equal(JSON.parse(await readFile(join(workDir, 'task.json'), 'utf8')).hash, task.hash);
  });

  void test('a command sees only the base environment and what passEnv lists', async () => {
    process.env.AWS_SECRET_ACCESS_KEY = 'not-for-programs';
    try {
      const task = makeTask({ analysis_name: 'Echo', command: ['node', ECHO] });
      const hidden = JSON.parse(
        await readFile(join((await run(task)).resultsDir, 'env.json'), 'utf8'),
      ) as string[];
      assert.ok(!hidden.includes('AWS_SECRET_ACCESS_KEY'));
      for (const name of ['PATH', 'ANALYSIS_TASK_FILE', 'ANALYSIS_RESULTS_DIR', 'ANALYSIS_INPUT_DIR'])
        assert.ok(hidden.includes(name), name);
      const passed = JSON.parse(
        await readFile(
          join((await run(task, { passEnv: ['AWS_SECRET_ACCESS_KEY'] })).resultsDir, 'env.json'),
          'utf8',
        ),
      ) as string[];
      assert.ok(passed.includes('AWS_SECRET_ACCESS_KEY'));
    } finally {
      delete process.env.AWS_SECRET_ACCESS_KEY;
    }
  });

  void test('a non-zero exit is a retryable AnalysisFailed with the last 20 lines of stderr', async () => {
    const task = python('import sys\nfor i in range(30): print(f"line {i}", file=sys.stderr)\nsys.exit(3)');
    await assert.rejects(run(task), (err: unknown) => {
      failsWith(
        ErrorType.AnalysisFailed,
        /python3 exited with code 3 .*stderr:\nline 10\n[^]*line 29$/,
        false,
      )(err);
      assert.doesNotMatch((err as Error).message, /line 9\n/);
      return true;
    });
  });

  void test('a missing program is a non-retryable CommandNotFound naming it', async () => {
    const task = makeTask({ analysis_name: 'Missing', command: ['no-such-program-xyz', '--help'] });
    await assert.rejects(run(task), failsWith(ErrorType.CommandNotFound, /"no-such-program-xyz": not found/));
  });

  void test('the program heartbeats with its elapsed time while it runs', async () => {
    heartbeats.length = 0;
    await run(python('import time; time.sleep(0.5)'), { heartbeatIntervalMs: 100 });
    assert.ok(heartbeats.length >= 3, `only ${heartbeats.length} heartbeats`);
    assert.ok(heartbeats.every((beat) => typeof (beat as { elapsed_s?: unknown }).elapsed_s === 'number'));
  });

  /** Starts a program that writes its pid to results/pid, cancels it once it has, and returns the pid. */
  const cancelled = async (code: string, killGraceMs: number) => {
    const controller = new AbortController();
    const workDir = await mkdtemp(join(scratch, 'cancel-'));
    const pidFile = join(workDir, 'results', 'pid');
    const started = Date.now();
    const task = python(
      `import os, signal, time\n${code}\nopen(os.path.join(os.environ["ANALYSIS_RESULTS_DIR"], "pid"), "w").write(str(os.getpid()))\ntime.sleep(60)`,
    );
    const running = runInScratch(scratch, task, registry, {
      workDir,
      signal: controller.signal,
      killGraceMs,
    });
    while (!existsSync(pidFile)) await sleep(20);
    const pid = Number(await readFile(pidFile, 'utf8'));
    controller.abort(new CancelledFailure('test cancel'));
    await assert.rejects(running, (err: unknown) => err instanceof CancelledFailure);
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' });
    return Date.now() - started;
  };

  void test('cancelling stops a program with SIGTERM', async () => {
    assert.ok((await cancelled('', 10_000)) < 5_000);
  });

  void test('cancelling a program that ignores SIGTERM kills it after the grace period', async () => {
    const elapsed = await cancelled('signal.signal(signal.SIGTERM, signal.SIG_IGN)', 700);
    assert.ok(elapsed >= 700, `killed after ${elapsed} ms`);
  });

  void test('outputs.json must hold an object', async () => {
    const task = python(
      'import os\nopen(os.path.join(os.environ["ANALYSIS_RESULTS_DIR"], "outputs.json"), "w").write("[1, 2]")',
    );
    await assert.rejects(run(task), failsWith(ErrorType.InvalidOutputs, /must hold a JSON object/));
  });

  void test('results may hold symlinks inside the folder but not ones that leave it', async () => {
    const inside = python(
      'import os\nd = os.environ["ANALYSIS_RESULTS_DIR"]\nos.makedirs(os.path.join(d, "sub"))\nopen(os.path.join(d, "sub", "a.txt"), "w").write("a")\nos.symlink(os.path.join(d, "sub", "a.txt"), os.path.join(d, "b.txt"))',
    );
    assert.deepEqual((await run(inside)).files, ['b.txt', 'sub/a.txt']);
    const leaving = python(
      'import os\nos.symlink("/etc/passwd", os.path.join(os.environ["ANALYSIS_RESULTS_DIR"], "passwd"))',
    );
    await assert.rejects(
      run(leaving),
      failsWith(ErrorType.UnsafeResults, /passwd is a symlink leaving the results folder/),
    );
  });

  void test('a TypeScript analysis is looked up, validated and run', async () => {
    const { outputs, files } = await run(makeTask({ analysis_name: 'Noop' }));
    assert.deepEqual({ outputs, files }, { outputs: {}, files: ['noop.txt'] });
    await assert.rejects(
      run(makeTask({ analysis_name: 'Nope' })),
      failsWith(ErrorType.UnknownAnalysis, /"Nope" \(registered: "Always Fails", .*"Noop", "Sleep"\)/),
    );
    const badSleep = makeTask({ analysis_name: 'Sleep' }, { parameters: { ms: -5 } });
    await assert.rejects(run(badSleep), failsWith(ErrorType.InvalidParameters, /"Sleep": ms: /));
    await assert.rejects(run(makeTask({ analysis_name: 'Always Fails' })), /always fails/);
  });

  void test('cancelling a TypeScript analysis rejects at once', async () => {
    const controller = new AbortController();
    const running = run(makeTask({ analysis_name: 'Sleep' }, { parameters: { ms: 60_000 } }), {
      signal: controller.signal,
    });
    await sleep(100);
    controller.abort(new CancelledFailure('test cancel'));
    await assert.rejects(running, (err: unknown) => err instanceof CancelledFailure);
  });

  void test('a registered command runs with validated parameters, defaults applied', async () => {
    const { outputs, resultsDir } = await run(makeTask({ analysis_name: 'Count' }, { parameters: {} }));
    assert.deepEqual(outputs, { count: 3 });
    assert.deepEqual(JSON.parse(await readFile(join(resultsDir, 'parameters.json'), 'utf8')), { n: 3 });
  });

  void test('a registered command is refused parameters or outputs its schemas reject', async () => {
    await assert.rejects(
      run(makeTask({ analysis_name: 'Count' }, { parameters: { n: 'three' } })),
      failsWith(ErrorType.InvalidParameters, /"Count": n: must be integer/),
    );
    await assert.rejects(
      run(makeTask({ analysis_name: 'Count' }, { parameters: { outputs: { count: 1.5 } } })),
      failsWith(ErrorType.InvalidOutputs, /"Count": count: must be integer/),
    );
  });

  void test('a spec command is refused, before it runs, where spec commands are not allowed', async () => {
    const workDir = await mkdtemp(join(scratch, 'refused-'));
    const task = makeTask({ analysis_name: 'Echo', command: ['node', ECHO] });
    await assert.rejects(
      run(task, { allowSpecCommands: false, workDir }),
      failsWith(
        ErrorType.SpecCommandRefused,
        /analysis "Echo".*\.analysis\.json.*ANALYSIS_ALLOW_SPEC_COMMANDS=1/,
      ),
    );
    assert.equal(existsSync(join(workDir, 'stdout.log')), false, 'the program never started');
  });
});
