import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadedPackages, loadedPackagesProbe } from '../helpers/loaded-packages';

const ROOT = join(__dirname, '..', '..');

/**
 * The packages a CLI invocation has loaded by the time it exits, from the sources (so this holds
 * whether or not dist/ is built): `--help` must not pay for the libraries only a command's body uses.
 */
function packagesLoadedBy(args: string[]): string[] {
  const run = spawnSync(
    process.execPath,
    [
      '--require',
      'tsx/cjs',
      '--require',
      loadedPackagesProbe(),
      '-e',
      `process.argv = [process.argv[0], 'analysis', ...${JSON.stringify(args)}];
       require('./src/client/cli.ts');`,
    ],
    { cwd: ROOT, encoding: 'utf8' },
  );
  assert.equal(run.status, 0, `analysis ${args.join(' ')} failed: ${run.stderr}`);
  assert.match(run.stdout, /Usage: analysis/);
  const loaded = loadedPackages(run.stderr);
  if (!loaded) throw new Error(`no module report from: analysis ${args.join(' ')}\n${run.stderr}`);
  return loaded;
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
  ['retry', '--help'],
  ['results', '--help'],
  ['report', '--help'],
  ['schedule', 'create', '--help'],
  ['schedule', 'trigger', '--help'],
  ['worker', '--help'],
]) {
  test(`analysis ${args.join(' ')} loads none of the heavy libraries`, () => {
    const loaded = packagesLoadedBy(args).filter((name) => name !== 'tsx' && name !== 'get-tsconfig');
    assert.ok(loaded.includes('commander'), `commander should be loaded: ${loaded.join(', ')}`);
    const heavy = loaded.filter((name) => HEAVY.includes(name));
    assert.deepEqual(heavy, [], `loaded for help: ${heavy.join(', ')}`);
  });
}
