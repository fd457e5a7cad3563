import { existsSync, readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { projectRoot } from '../../src/analysis/paths';
import {
  codeDirOf,
  codeProvenance,
  gitEnv,
  isPythonProgram,
  libraryVersions,
  stripCredentials,
  workerHost,
} from '../../src/analysis/provenance';
import { provenanceLookups } from '../../src/analysis/provenance-lookups';
import type { AnalysisSpec } from '../../src/types';

const spec = (fields: Partial<AnalysisSpec>): AnalysisSpec => ({
  analysis_name: 'Test',
  analysis_version: 'v1',
  analysis_libraries: [],
  analysis_parameters: {},
  ...fields,
});

function git(dir: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', ...args], {
    cwd: dir,
    encoding: 'utf8',
  }).trim();
}

void describe('analysis/provenance', () => {
  let scratch: string;
  before(async () => {
    scratch = await realpath(await mkdtemp(join(tmpdir(), 'provenance-')));
  });
  after(() => rm(scratch, { recursive: true, force: true }));

  void test('codeProvenance reports commit and dirty flag of a repository, nothing outside one', async () => {
    const repo = join(scratch, 'repo');
    await mkdir(join(repo, 'analyses'), { recursive: true });
    git(repo, 'init', '-q');
    await writeFile(join(repo, 'analyses', 'a.py'), 'print(1)\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', 'first');
    const head = git(repo, 'rev-parse', 'HEAD');
    assert.deepEqual(await codeProvenance(join(repo, 'analyses'), { fresh: true }), {
      repository: repo,
      commit: head,
      dirty: false,
    });
    await writeFile(join(repo, 'analyses', 'a.py'), 'print(2)\n');
    git(repo, 'remote', 'add', 'origin', 'https://user:s3cret@example.com/lab/analyses.git');
    assert.deepEqual(await codeProvenance(join(repo, 'analyses'), { fresh: true }), {
      repository: 'https://example.com/lab/analyses.git',
      commit: head,
      dirty: true,
    });
    const plain = join(scratch, 'plain');
    await mkdir(plain);
    assert.deepEqual(await codeProvenance(plain), {});
  });

  void test('codeProvenance runs nothing a checkout names: no fsmonitor, no hooks, no environment', async () => {
    const repo = join(scratch, 'hooked');
    const marker = join(scratch, 'ran.txt');
    await mkdir(repo);
    git(repo, 'init', '-q');
    await writeFile(join(repo, 'monitor.sh'), `#!/bin/sh\necho "$SECRET_TOKEN" >> ${marker}\n`, {
      mode: 0o755,
    });
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', 'first');
    git(repo, 'config', 'core.fsmonitor', join(repo, 'monitor.sh'));
    process.env.SECRET_TOKEN = 'worker-only';
    try {
      const found = await codeProvenance(repo, { fresh: true });
      assert.equal(found.commit, git(repo, 'rev-parse', 'HEAD'));
      assert.equal(existsSync(marker), false, 'the monitor did not run');
    } finally {
      delete process.env.SECRET_TOKEN;
    }
    assert.deepEqual(gitEnv({ PATH: '/bin', HOME: '/root', SECRET_TOKEN: 'x' }), {
      PATH: '/bin',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_TERMINAL_PROMPT: '0',
    });
  });

  void test('provenanceLookups of a worker that refuses spec commands run nothing for one', async () => {
    const registry = join(scratch, 'registry');
    await mkdir(registry);
    git(registry, 'init', '-q');
    git(registry, 'commit', '-q', '--allow-empty', '-m', 'first');
    const refusing = provenanceLookups(registry, projectRoot(), { specCommands: false });
    const command = spec({ command: ['python3', 'analyses/lick_rate.py'], analysis_libraries: ['pip'] });
    assert.equal(await refusing.codeCommit(command), undefined);
    await assert.rejects(refusing.libraries(command), /do not run a "command" given in a dispatch spec/);
    assert.equal(await refusing.codeCommit(spec({})), git(registry, 'rev-parse', 'HEAD'));
  });

  void test('stripCredentials removes user info from URLs only', () => {
    assert.equal(stripCredentials('https://x-token:abc@github.com/o/r.git'), 'https://github.com/o/r.git');
    assert.equal(stripCredentials('git@github.com:o/r.git'), 'git@github.com:o/r.git');
  });

  void test('codeDirOf finds the registry folder, the script folder or the command root', () => {
    const root = projectRoot();
    assert.equal(codeDirOf(spec({}), '/registry', root), '/registry');
    assert.equal(
      codeDirOf(spec({ command: ['python3', 'analyses/lick_rate.py'] }), '/registry', root),
      join(root, 'analyses'),
    );
    assert.equal(codeDirOf(spec({ command: ['python3', '-c', 'print(1)'] }), '/registry', root), root);
  });

  void test('libraryVersions reads npm packages, asks python, and admits what it cannot know', async () => {
    const root = projectRoot();
    const zodVersion = (
      JSON.parse(readFileSync(require.resolve('zod/package.json'), 'utf8')) as { version: string }
    ).version;
    assert.deepEqual(
      await libraryVersions(spec({ analysis_libraries: ['zod', 'no-such-package-xyz'] }), root),
      {
        'no-such-package-xyz': 'not installed',
        zod: zodVersion,
      },
    );
    const python = await libraryVersions(
      spec({ command: ['python3', 'x.py'], analysis_libraries: ['pip', 'no-such-dist-xyz'] }),
      root,
    );
    assert.match(python.pip ?? '', /^\d+\.\d+/);
    assert.equal(python['no-such-dist-xyz'], 'not installed');
    assert.deepEqual(
      await libraryVersions(spec({ command: ['Rscript', 'a.R'], analysis_libraries: ['dplyr'] }), root),
      {
        dplyr: 'unknown',
      },
    );
    assert.deepEqual(await libraryVersions(spec({ command: ['python3'] }), root), {});
    assert.ok(
      isPythonProgram('/usr/bin/python3.11') &&
        isPythonProgram('.venv/bin/python') &&
        !isPythonProgram('pytest'),
    );
  });

  void test('workerHost is the host name', () => {
    assert.equal(workerHost(), hostname());
  });
});
