import { spawnSync } from 'node:child_process';
import { delimiter, join } from 'node:path';
import type { BenchStack } from './stack';

const ROOT = join(__dirname, '..');

/** Medians of whole command runs, each measured from spawn to exit. */
export interface CommandTiming {
  command: string;
  runs: number;
  medianSeconds: number;
  minSeconds: number;
}

export interface CliResult {
  /** `node -e 0`: what starting Node costs here, the floor of every command. */
  node: CommandTiming;
  help: CommandTiming[];
  status: CommandTiming;
  describe: CommandTiming;
  results: CommandTiming;
  rawFind: CommandTiming;
  /** Records `results` printed (and the raw find returned). */
  records: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Runs a command `runs` times after one warm-up (the page cache, not a JIT, is what it warms). */
function time(label: string, program: string, args: string[], env: NodeJS.ProcessEnv, runs: number) {
  const seconds: number[] = [];
  let stdout = '';
  for (let run = 0; run <= runs; run++) {
    const began = performance.now();
    const done = spawnSync(program, args, { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
    const took = (performance.now() - began) / 1000;
    if (done.status !== 0)
      throw new Error(`${label} exited ${done.status ?? done.signal}: ${done.stderr.slice(-2000)}`);
    stdout = done.stdout;
    if (run > 0) seconds.push(took);
  }
  return {
    timing: { command: label, runs, medianSeconds: median(seconds), minSeconds: Math.min(...seconds) },
    stdout,
  };
}

/**
 * P7: what a user waits for at the terminal, typed as the Quickstart sets it up: `analysis ...`
 * found on PATH in the clone's bin/ (the name resolved through PATH as a shell does, then the
 * script's `#!/usr/bin/env node`). `--help` of the CLI and of its commands, and once as `node
 * bin/analysis.js --help` beside it; `status` of a finished dispatch against the Temporal CLI's
 * `workflow describe` of the same workflow; `results` of 100 records against a bare driver `find`
 * of the same records in a Node process started for it.
 */
export function benchCli(stack: BenchStack, dispatchId: string, runs: number): CliResult {
  const env = {
    ...stack.env,
    LOG_LEVEL: 'warn',
    NODE_NO_WARNINGS: '1',
    PATH: [join(ROOT, 'bin'), stack.env.PATH ?? process.env.PATH ?? ''].join(delimiter),
  };
  // Found through env.PATH, as typed: spawn looks a bare name up in the PATH of the env it is given.
  const typed = 'analysis';
  const node = time('node -e 0', process.execPath, ['-e', '0'], env, runs).timing;
  const help = [
    time(
      'node bin/analysis.js --help',
      process.execPath,
      [join(ROOT, 'bin', 'analysis.js'), '--help'],
      env,
      runs,
    ).timing,
    ...[
      ['--help'],
      ['dispatch', '--help'],
      ['status', '--help'],
      ['results', '--help'],
      ['schedule', 'create', '--help'],
    ].map((args) => time(`analysis ${args.join(' ')}`, typed, args, env, runs).timing),
  ];

  const status = time(`analysis status <id>`, typed, ['status', dispatchId], env, runs).timing;
  const temporalCli = join(ROOT, '.dev', 'venv', 'bin', 'temporal');
  const describe = time(
    'temporal workflow describe',
    temporalCli,
    [
      'workflow',
      'describe',
      '--workflow-id',
      `dispatch-${dispatchId}`,
      '--address',
      stack.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233',
      '--namespace',
      stack.env.TEMPORAL_NAMESPACE ?? 'default',
    ],
    env,
    runs,
  ).timing;

  const listed = time(
    'analysis results --limit 100 --json',
    typed,
    ['results', '--dispatch_id', dispatchId, '--limit', '100', '--json'],
    env,
    runs,
  );
  const records = (JSON.parse(listed.stdout) as unknown[]).length;
  // The same query as `results` (its filter, _id order, one more than the page to see the next).
  const find = `
    const { MongoClient } = require('mongodb');
    (async () => {
      const client = await MongoClient.connect(process.env.MONGODB_URI);
      const found = await client.db(process.env.DOCDB_DATABASE).collection(process.env.DOCDB_COLLECTION)
        .find({ dispatch_id: ${JSON.stringify(dispatchId)} }).sort({ _id: 1 }).limit(101).toArray();
      process.stdout.write(JSON.stringify(found.slice(0, 100)));
      await client.close();
    })().catch((err) => { console.error(err); process.exit(1); });`;
  const raw = time(
    'node: driver find of the same 100',
    process.execPath,
    ['-e', find],
    {
      ...env,
      MONGODB_URI: stack.config.MONGODB_URI,
      DOCDB_DATABASE: stack.config.DOCDB_DATABASE,
      DOCDB_COLLECTION: stack.config.DOCDB_COLLECTION,
    },
    runs,
  );
  const rawCount = (JSON.parse(raw.stdout) as unknown[]).length;
  if (rawCount !== records) throw new Error(`results printed ${records} records, the raw find ${rawCount}`);
  return { node, help, status, describe, results: listed.timing, rawFind: raw.timing, records };
}
