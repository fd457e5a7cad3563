import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { runProgram } from '../../src/analysis/command';
import { projectRoot } from '../../src/analysis/paths';
import { ErrorType } from '../../src/errors';

const root = projectRoot();
const HANG = join(root, 'test/fixtures/commands/hang.mjs');
const RUNNER = join(root, 'test/fixtures/run-command.ts');

/** True while the process exists and is not a zombie (an orphan's zombie may wait for its reaper). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

void describe('analysis/command', () => {
  let scratch: string;
  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'command-'));
  });
  after(() => rm(scratch, { recursive: true, force: true }));

  const run = (program: string, args: string[]) =>
    runProgram({
      program,
      args,
      cwd: scratch,
      env: { PATH: process.env.PATH ?? '' },
      stdoutPath: join(scratch, 'stdout.log'),
      stderrPath: join(scratch, 'stderr.log'),
      signal: new AbortController().signal,
      heartbeat: () => undefined,
      log: () => undefined,
    });

  const analysisFailed = (pattern: RegExp) => (err: unknown) => {
    assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(err)}`);
    assert.equal(err.type, ErrorType.AnalysisFailed);
    assert.equal(err.nonRetryable, false);
    assert.match(err.message, pattern);
    return true;
  };

  void test('runProgram reports the exit code or the signal that ended the program', async () => {
    await run('sh', ['-c', 'echo out; echo err >&2']);
    assert.equal(readFileSync(join(scratch, 'stdout.log'), 'utf8'), 'out\n');
    assert.equal(readFileSync(join(scratch, 'stderr.log'), 'utf8'), 'err\n');
    await assert.rejects(run('sh', ['-c', 'exit 7']), analysisFailed(/^sh exited with code 7 after/));
    // Signals a node process cannot simply die of itself (it ignores SIGPIPE; SIGUSR1 opens its
    // inspector) still come through as the program's.
    for (const signal of ['SIGUSR1', 'SIGPIPE', 'SIGKILL'])
      await assert.rejects(
        run('sh', ['-c', `kill -${signal.slice(3)} $$`]),
        analysisFailed(new RegExp(`^sh was killed by ${signal} after`)),
      );
  });

  void test('runProgram names a program that is missing or not executable, non-retryably', async () => {
    const notExecutable = join(scratch, 'not-executable.sh');
    writeFileSync(notExecutable, 'exit 0\n');
    chmodSync(notExecutable, 0o644);
    for (const [program, why] of [
      ['no-such-program-xyz', 'not found'],
      [notExecutable, 'not executable'],
    ] as const)
      await assert.rejects(run(program, []), (err: unknown) => {
        assert.ok(err instanceof ApplicationFailure);
        assert.equal(err.type, ErrorType.CommandNotFound);
        assert.equal(err.nonRetryable, true);
        assert.equal(err.message, `Cannot run "${program}": ${why}`);
        return true;
      });
  });

  void test('runProgram finds a program named by a relative path in the folder it runs in', async () => {
    writeFileSync(join(scratch, 'here.sh'), '#!/bin/sh\necho "ran in $PWD"\n');
    chmodSync(join(scratch, 'here.sh'), 0o755);
    await run('./here.sh', []);
    assert.equal(readFileSync(join(scratch, 'stdout.log'), 'utf8'), `ran in ${scratch}\n`);
  });

  /**
   * Starts a stand-in worker running `command`, which appends `processes` pids, one a line, to the
   * file named by its last argument; kills the worker with SIGKILL once they are all there, and
   * returns the pids still running 10 s later and how long after the kill the last one was gone.
   */
  const killWorkerUnder = async (command: string[], processes: number, killGraceMs: number) => {
    const pidFile = join(await mkdtemp(join(scratch, 'orphan-')), 'pids');
    const worker = spawn(
      process.execPath,
      ['--require', 'tsx/cjs', RUNNER, String(killGraceMs), ...command, pidFile],
      { cwd: root, stdio: 'ignore' },
    );
    const workerExited = new Promise((resolve) => worker.once('exit', resolve));
    const deadline = Date.now() + 30_000;
    const pids = () =>
      existsSync(pidFile) ? readFileSync(pidFile, 'utf8').split('\n').filter(Boolean).map(Number) : [];
    while (pids().length < processes && Date.now() < deadline) await sleep(20);
    const started = pids();
    assert.equal(started.length, processes, 'the command started');
    worker.kill('SIGKILL');
    await workerExited;
    const killed = Date.now();
    while (started.some(alive) && Date.now() - killed < 10_000) await sleep(20);
    const left = started.filter(alive);
    for (const pid of left) process.kill(pid, 'SIGKILL');
    return { left, goneAfterMs: left.length ? null : Date.now() - killed };
  };

  void test('runProgram stops the program when its worker is killed with SIGKILL', async (t) => {
    const { left, goneAfterMs } = await killWorkerUnder(['node', HANG], 1, 5000);
    assert.deepEqual(left, [], 'the program still runs 10 s after its worker was killed');
    t.diagnostic(`program gone ${goneAfterMs} ms after the worker was killed`);
    assert.ok(goneAfterMs! < 3000, `gone only after ${goneAfterMs} ms`);
  });

  void test('runProgram SIGKILLs a program and child ignoring SIGTERM after the grace period when the worker dies', async (t) => {
    // The program forks a child; both ignore SIGTERM, and both write their pid.
    const code = [
      'import os, signal, sys, time',
      'signal.signal(signal.SIGTERM, signal.SIG_IGN)',
      'os.fork()',
      'open(sys.argv[1], "a").write(f"{os.getpid()}\\n")',
      'time.sleep(60)',
    ].join('\n');
    const { left, goneAfterMs } = await killWorkerUnder(['python3', '-c', code], 2, 700);
    assert.deepEqual(left, [], 'processes still run 10 s after their worker was killed');
    t.diagnostic(`program and child gone ${goneAfterMs} ms after the worker was killed (grace 700 ms)`);
    assert.ok(goneAfterMs! >= 600, `SIGKILLed before the grace period: after ${goneAfterMs} ms`);
  });
});
