import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

const ROOT = join(__dirname, '..', '..');

/**
 * The packages a CLI invocation has loaded by the time it exits, from the sources (so this holds
 * whether or not dist/ is built): `--help` must not pay for the libraries only a command's body uses.
 */
function packagesLoadedBy(args: string[]): string[] {
  const probe = `
    const exit = process.exit;
    process.exit = (code) => {
      const names = new Set();
      for (const file of Object.keys(require.cache)) {
        const at = file.lastIndexOf('node_modules/');
        if (at === -1) continue;
        const parts = file.slice(at + 13).split('/');
        names.add(parts[0].startsWith('@') ? parts[0] + '/' + parts[1] : parts[0]);
      }
      process.stderr.write('LOADED ' + JSON.stringify([...names]) + '\\n');
      exit(code);
    };
    process.argv = [process.argv[0], 'analysis', ...${JSON.stringify(args)}];
    require('./src/client/cli.ts');
  `;
  const run = spawnSync(process.execPath, ['--require', 'tsx/cjs', '-e', probe], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  assert.equal(run.status, 0, `analysis ${args.join(' ')} failed: ${run.stderr}`);
  assert.match(run.stdout, /Usage: analysis/);
  const line = run.stderr.split('\n').find((l) => l.startsWith('LOADED '));
  if (!line) throw new Error(`no module report from: analysis ${args.join(' ')}\n${run.stderr}`);
  return JSON.parse(line.slice(7)) as string[];
}

const HEAVY = [
  'mongodb',
  '@temporalio/client',
  '@temporalio/worker',
  '@aws-sdk/client-s3',
  'ajv',
  'zod',
  'pino',
];

for (const args of [
  ['--help'],
  ['dispatch', '--help'],
  ['plan', '--help'],
  ['status', '--help'],
  ['cancel', '--help'],
  ['resize', '--help'],
  ['results', '--help'],
  ['schedule', 'create', '--help'],
  ['worker', '--help'],
]) {
  test(`analysis ${args.join(' ')} loads none of the heavy libraries`, () => {
    const loaded = packagesLoadedBy(args).filter((name) => name !== 'tsx' && name !== 'get-tsconfig');
    assert.ok(loaded.includes('commander'), `commander should be loaded: ${loaded.join(', ')}`);
    const heavy = loaded.filter((name) => HEAVY.includes(name));
    assert.deepEqual(heavy, [], `loaded for help: ${heavy.join(', ')}`);
  });
}
