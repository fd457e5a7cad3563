import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createArgs } from '../../src/analysis/container';
import { parseImageReference, parseMemory } from '../../src/analysis/container-options';
import { loadManifest } from '../../src/analysis/manifest';
import { ConfigError } from '../../src/errors';
import { loadConfig } from '../../src/config';

async function manifestFile(fields: Record<string, unknown>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'container-manifest-'));
  const path = join(dir, 'probe.analysis.json');
  await mkdir(join(dir, 'code'));
  await writeFile(
    path,
    JSON.stringify({ name: 'Probe', command: ['python3', 'run.py'], parameters: {}, outputs: {}, ...fields }),
  );
  return path;
}

void describe('container analyses', () => {
  void test('parseImageReference reads registry, path, tag and digest, and refuses what is no reference', () => {
    assert.deepEqual(parseImageReference('registry.example.org:5000/lab/lick-rate:1.2'), {
      repository: 'registry.example.org:5000/lab/lick-rate',
      tag: '1.2',
    });
    const digest = `sha256:${'a'.repeat(64)}`;
    assert.deepEqual(parseImageReference(`python@${digest}`), { repository: 'python', digest });
    for (const bad of ['', 'Lab/Upper', 'has space', '--privileged', 'a:b:c', `x@sha256:short`])
      assert.equal(parseImageReference(bad), undefined, bad);
  });

  void test('parseMemory reads binary units and refuses sizes no container starts with', () => {
    assert.equal(parseMemory('512m'), 512 * 2 ** 20);
    assert.equal(parseMemory('1.5GiB'), 1.5 * 2 ** 30);
    assert.equal(parseMemory('300 MB'), 300 * 2 ** 20);
    for (const bad of ['lots', '-1g', '1x', '1k']) assert.equal(parseMemory(bad), undefined, bad);
  });

  void test('a manifest naming an image keeps its command as the image sees it and reads its limits', async () => {
    const analysis = await loadManifest(
      await manifestFile({ image: 'lab/lick:1', memory: '2g', cpus: 1.5, gpus: 1, code: 'code' }),
    );
    assert.deepEqual(analysis.command, ['python3', 'run.py']);
    assert.deepEqual(analysis.container, {
      image: 'lab/lick:1',
      network: false,
      cpus: 1.5,
      memory_bytes: 2 * 2 ** 30,
      gpus: 1,
      code: join(analysis.file, '..', 'code'),
    });
  });

  void test('bad container fields are refused by name', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ image: 'Not A Reference' }, /image: must be an image reference/],
      [{ image: 'lab/x', runtime: 'rkt' }, /runtime: must be one of podman, docker/],
      [{ image: 'lab/x', memory: 'plenty' }, /memory: must be a size like "512m"/],
      [{ image: 'lab/x', cpus: 0 }, /cpus: must be above 0/],
      [{ image: 'lab/x', gpus: 'two' }, /gpus: must be a whole number of GPUs or "all"/],
      [{ memory: '1g' }, /memory: applies only to an analysis that names an "image"/],
      [{ image: 'lab/x', code: 'elsewhere' }, /code: no folder at .*elsewhere/],
    ];
    for (const [fields, message] of cases)
      await assert.rejects(loadManifest(await manifestFile(fields)), message, JSON.stringify(fields));
  });

  void test('ANALYSIS_CONTAINER_RUNTIME and ANALYSIS_REQUIRE_CONTAINERS are checked at start-up', () => {
    assert.equal(loadConfig({}).ANALYSIS_CONTAINER_RUNTIME, 'podman');
    assert.throws(
      () => loadConfig({ ANALYSIS_CONTAINER_RUNTIME: 'rkt' }),
      (err: unknown) => err instanceof ConfigError && /ANALYSIS_CONTAINER_RUNTIME/.test(err.message),
    );
    assert.throws(() => loadConfig({ ANALYSIS_REQUIRE_CONTAINERS: 'yes' }), /ANALYSIS_REQUIRE_CONTAINERS/);
  });

  void test('createArgs: Code Ocean layout, /data read-only, no network or capabilities, the limits', () => {
    const args = createArgs({
      name: 'analysis-x',
      runtime: 'podman',
      spec: { image: 'lab/x:1', network: false, memory_bytes: 64 * 2 ** 20, cpus: 2, gpus: 'all' },
      layout: {
        dataDir: '/w/data',
        resultsDir: '/w/results',
        scratchDir: '/w/scratch',
        taskFileName: 'h.json',
      },
      command: ['python3', 'run.py'],
      worker: 'host/1/2',
    });
    const after = (flag: string) => args.flatMap((arg, i) => (arg === flag ? [args[i + 1]] : []));
    assert.deepEqual(after('--network'), ['none']);
    assert.deepEqual(after('--cap-drop'), ['all']);
    assert.deepEqual(after('--volume'), ['/w/data:/data:ro', '/w/results:/results', '/w/scratch:/scratch']);
    assert.deepEqual(after('--memory'), [String(64 * 2 ** 20)]);
    assert.deepEqual(after('--memory-swap'), [String(64 * 2 ** 20)]);
    assert.deepEqual(after('--cpus'), ['2']);
    assert.deepEqual(after('--device'), ['nvidia.com/gpu=all']);
    assert.deepEqual(after('--env'), [
      'ANALYSIS_TASK_FILE=/data/job_dict/h.json',
      'ANALYSIS_RESULTS_DIR=/results',
      'ANALYSIS_INPUT_DIR=/data',
    ]);
    assert.deepEqual(args.slice(-3), ['lab/x:1', 'python3', 'run.py']);
  });
});
