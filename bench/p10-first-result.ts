import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { seedAssetRecords } from './seed';
import type { BenchStack } from './stack';

const ROOT = join(__dirname, '..');

export interface FirstResultTimings {
  runs: number;
  /** Command start to the analysis (or activity) starting, seconds: median and least. */
  startMedianSeconds: number;
  startMinSeconds: number;
  /** Command start to its exit. */
  returnMedianSeconds: number;
  returnMinSeconds: number;
}

export interface FirstResultResult {
  dispatch: FirstResultTimings;
  baseline: FirstResultTimings;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Runs a command `runs` times after one warm-up, each writing (through what it starts) the time
 * its work began into `stamp(run)`: from spawn to that time, and from spawn to exit.
 */
function timeRuns(
  label: string,
  runs: number,
  command: (run: number, stamp: string) => { program: string; args: string[] },
  env: NodeJS.ProcessEnv,
  dir: string,
): FirstResultTimings {
  const starts: number[] = [];
  const returns: number[] = [];
  for (let run = 0; run <= runs; run++) {
    const stamp = join(dir, `stamp-${run}`);
    const { program, args } = command(run, stamp);
    const began = Date.now();
    const done = spawnSync(program, args, { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 16 * 2 ** 20 });
    const ended = Date.now();
    if (done.status !== 0)
      throw new Error(
        `${label} exited ${done.status ?? done.signal}: ${(done.stderr || done.stdout).slice(-2000)}`,
      );
    const startedAt = Number(readFileSync(stamp, 'utf8').trim());
    if (!Number.isFinite(startedAt)) throw new Error(`${label}: no start time in ${stamp}`);
    if (run === 0) continue;
    starts.push((startedAt - began) / 1000);
    returns.push((ended - began) / 1000);
  }
  return {
    runs,
    startMedianSeconds: median(starts),
    startMinSeconds: Math.min(...starts),
    returnMedianSeconds: median(returns),
    returnMinSeconds: Math.min(...returns),
  };
}

/**
 * P10: time to the first result on an idle stack. `analysis dispatch --wait` (typed as the
 * quickstart sets it up, found on PATH) of one task of a command analysis that writes the time it
 * started, against `temporal workflow execute` of a workflow of one activity that does the same,
 * on the bench's baseline worker. Each run is a new task (its parameters name the run), so none
 * is skipped as done.
 */
export async function benchFirstResult(
  stack: BenchStack,
  options: { dir: string; baselineQueue: string; runs: number },
): Promise<FirstResultResult> {
  const dir = join(options.dir, 'p10');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await seedAssetRecords(stack.mongo.db(stack.names.assetsDb).collection(stack.config.ASSETS_COLLECTION), {
    set: 'p10',
    count: 1,
    bucket: stack.names.dataBucket,
  });
  const env = {
    ...stack.env,
    NODE_NO_WARNINGS: '1',
    PATH: [join(ROOT, 'bin'), stack.env.PATH ?? process.env.PATH ?? ''].join(delimiter),
  };
  const dispatch = timeRuns(
    'analysis dispatch --wait',
    options.runs,
    (run, stamp) => {
      const spec = join(dir, `spec-${run}.json`);
      writeFileSync(
        spec,
        JSON.stringify([
          {
            analysis_name: 'First Result',
            analysis_version: 'v1',
            analysis_parameters: { run: `${stack.names.id}-${run}` },
            command: ['sh', '-c', `date +%s%3N > ${stamp}`],
          },
        ]),
      );
      return {
        program: 'analysis',
        args: ['dispatch', '--query', JSON.stringify({ set: 'p10' }), '--analysis_spec', spec, '--wait'],
      };
    },
    env,
    dir,
  );
  const temporalCli = join(ROOT, '.dev', 'venv', 'bin', 'temporal');
  const baseline = timeRuns(
    'temporal workflow execute',
    options.runs,
    (run, stamp) => ({
      program: temporalCli,
      args: [
        'workflow',
        'execute',
        '--type',
        'baselineFirst',
        '--task-queue',
        options.baselineQueue,
        '--workflow-id',
        `${options.baselineQueue}-first-${run}`,
        '--input',
        JSON.stringify(stamp),
        '--address',
        stack.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
        '--namespace',
        stack.env.TEMPORAL_NAMESPACE ?? 'default',
      ],
    }),
    env,
    dir,
  );
  rmSync(dir, { recursive: true, force: true });
  return { dispatch, baseline };
}
