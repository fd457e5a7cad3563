import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { projectRoot } from '../../src/analysis/paths';
import { loadRegistry } from '../../src/analysis/registry';
import type { AnalysisRegistry } from '../../src/analysis/definition';
import { ErrorType } from '../../src/errors';
import type { AnalysisSpec, Task } from '../../src/types';
import { fakeS3 } from '../fixtures/fake-s3';
import { runInScratch } from '../fixtures/run-analysis';
import { makeTask } from '../fixtures/tasks';

const root = projectRoot();

const unitsCsv = [
  'unit_id,isi_violations,firing_rate,presence_ratio',
  '1,0.1,5.0,0.99',
  '2,0.9,5.0,0.99',
  '3,0.2,0.05,0.95',
  '4,0.0,12.5,1.0',
].join('\n');

async function specOf(file: string, name: string): Promise<AnalysisSpec> {
  const specs = JSON.parse(await readFile(join(root, 'analyses/specs', file), 'utf8')) as AnalysisSpec[];
  const spec = specs.find((entry) => entry.analysis_name === name);
  assert.ok(spec, `${name} in ${file}`);
  return spec;
}

void describe('analyses (shipped examples)', () => {
  let scratch: string;
  let registry: AnalysisRegistry;
  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'examples-'));
    registry = await loadRegistry(join(root, 'analyses'));
  });
  after(() => rm(scratch, { recursive: true, force: true }));

  const run = async (task: Task, objects: Record<string, string>) => {
    const s3 = fakeS3(objects);
    const result = await runInScratch(scratch, task, registry, { s3: s3.client, allowSpecCommands: false });
    return { ...result, reads: s3.reads };
  };

  void test('Unit Yield counts units passing the thresholds of each asset', async () => {
    const spec = await specOf('unit-yield.json', 'Unit Yield');
    const task = makeTask(spec, {
      parameters: { isi_violations: 0.5 },
      input: {
        s3_location: ['s3://demo/a1', 's3://demo/a2/'],
        asset_name: ['a1', 'a2'],
        docdb_record_id: ['1', '2'],
        file_location: [],
      },
    });
    const objects = { 's3://demo/a1/spikes/units.csv': unitsCsv, 's3://demo/a2/spikes/units.csv': unitsCsv };
    const { outputs, files, resultsDir, reads } = await run(task, objects);
    assert.deepEqual(reads, Object.keys(objects));
    assert.deepEqual(outputs, { units_total: 8, units_passing: 4, yield_fraction: 0.5, files_read: 2 });
    assert.deepEqual(files, ['summary.json', 'units.csv']);
    const passing = (await readFile(join(resultsDir, 'units.csv'), 'utf8')).trim().split('\n');
    assert.equal(passing[0], 'unit_id,isi_violations,firing_rate,presence_ratio,source');
    assert.deepEqual(
      passing.slice(1).map((line) => line.split(',')[0]),
      ['1', '4', '1', '4'],
    );
    const summary = JSON.parse(await readFile(join(resultsDir, 'summary.json'), 'utf8'));
    assert.deepEqual(summary.thresholds, { isi_violations: 0.5, min_firing_rate: 0.1 });
  });

  void test('Unit Yield reads the CSV files of a file task and rejects bad parameters', async () => {
    const spec = await specOf('both.json', 'Unit Yield');
    const file = 's3://demo/a1/spikes/units.csv';
    const input = {
      s3_location: ['s3://demo/a1'],
      asset_name: ['a1'],
      docdb_record_id: ['1'],
      file_location: [file, 's3://demo/a1/behavior/licks.json'],
    };
    const { outputs } = await run(
      makeTask(spec, { parameters: { isi_violations: 1, min_firing_rate: 0 }, input }),
      { [file]: unitsCsv },
    );
    assert.deepEqual(outputs, { units_total: 4, units_passing: 4, yield_fraction: 1, files_read: 1 });
    await assert.rejects(
      run(makeTask(spec, { parameters: { isi_violations: 'high' }, input }), {}),
      (err: unknown) => err instanceof ApplicationFailure && /isi_violations: /.test(err.message),
    );
  });

  void test('lick_rate.py computes lick rate and intervals from downloaded lick files', async () => {
    const spec = await specOf('lick-rate.json', 'Lick Rate');
    const licks = (times: number[]) => JSON.stringify({ lick_times: times });
    const objects = {
      's3://demo/a1/behavior/licks.json': licks([0.5, 1.0, 1.5, 12.0]),
      's3://demo/a2/behavior/licks.json': licks([3.0, 2.0]),
      's3://demo/a2/metadata/session.json': JSON.stringify({ subject: 'x' }),
    };
    const task = makeTask(spec, {
      parameters: { bin_size_s: 5, isi_violations: 0.5 },
      input: {
        s3_location: ['s3://demo/a1', 's3://demo/a2'],
        asset_name: ['a1', 'a2'],
        docdb_record_id: ['1', '2'],
        file_location: Object.keys(objects),
      },
    });
    const { outputs, files, resultsDir } = await run(task, objects);
    assert.deepEqual(files, ['lick_rate.csv', 'outputs.json']);
    assert.deepEqual(outputs, {
      files: 2,
      bin_size_s: 5,
      lick_count: 6,
      duration_s: 12.5,
      lick_rate_hz: 0.48,
      ili_mean_s: 3.125,
      ili_median_s: 0.75,
      ili_min_s: 0.5,
      ili_max_s: 10.5,
    });
    const rows = (await readFile(join(resultsDir, 'lick_rate.csv'), 'utf8')).trim().split(/\r?\n/);
    assert.deepEqual(rows, [
      'source,bin_start_s,bin_end_s,licks,rate_hz',
      's3://demo/a1/behavior/licks.json,0.0,5.0,3,0.6',
      's3://demo/a1/behavior/licks.json,5.0,10.0,0,0.0',
      's3://demo/a1/behavior/licks.json,10.0,15.0,1,0.2',
      's3://demo/a2/behavior/licks.json,0.0,5.0,2,0.4',
    ]);
  });

  void test('Lick Rate is refused parameters its manifest rejects, and fails without lick files', async () => {
    const spec = await specOf('lick-rate.json', 'Lick Rate');
    const input = {
      s3_location: ['s3://demo/a1'],
      asset_name: ['a1'],
      docdb_record_id: ['1'],
      file_location: ['s3://demo/a1/behavior/licks.json'],
    };
    const objects = { 's3://demo/a1/behavior/licks.json': '{"lick_times": [1, 2]}' };
    await assert.rejects(
      run(makeTask(spec, { parameters: { bin_size_s: 0 }, input }), objects),
      (err: unknown) =>
        err instanceof ApplicationFailure &&
        err.type === ErrorType.InvalidParameters &&
        err.nonRetryable &&
        /bin_size_s: must be > 0/.test(err.message),
    );
    await assert.rejects(
      run(makeTask(spec, { parameters: {}, input }), { 's3://demo/a1/behavior/licks.json': '{"t": []}' }),
      /no lick files in the inputs/,
    );
  });

  /** The project's venv, where pydantic is installed (scripts/install-python-formats.sh). */
  const venvBin = join(root, '.dev', 'venv', 'bin');
  const withPydantic = existsSync(join(venvBin, 'python3'))
    ? {}
    : { skip: 'no .dev/venv (scripts/install-python-formats.sh)' };

  for (const [script, manifest] of [
    ['lick_rate.py', 'lick_rate.analysis.json'],
    ['lick_bouts.py', 'lick_bouts.analysis.json'],
  ] as const) {
    void test(`${manifest} holds the schemas ${script} --schemas prints`, withPydantic, () => {
      const printed = JSON.parse(
        execFileSync(join(venvBin, 'python3'), [join(root, 'analyses', script), '--schemas'], {
          encoding: 'utf8',
        }),
      ) as Record<string, unknown>;
      const declared = JSON.parse(readFileSync(join(root, 'analyses', manifest), 'utf8')) as Record<
        string,
        unknown
      >;
      assert.deepEqual({ parameters: declared.parameters, outputs: declared.outputs }, printed);
    });
  }

  void test(
    'Lick Bouts (pydantic models, run_analysis(job, parameters)) counts bouts',
    withPydantic,
    async () => {
      const spec = await specOf('lick-bouts.json', 'Lick Bouts');
      const objects = {
        's3://demo/a1/behavior/licks.json': JSON.stringify({ lick_times: [0.1, 0.3, 0.5, 3.0, 3.2, 9.0] }),
        's3://demo/a2/behavior/licks.json': JSON.stringify({ lick_times: [1.0, 1.2] }),
      };
      const task = makeTask(spec, {
        parameters: { max_gap_s: 0.5 },
        input: {
          s3_location: ['s3://demo/a1', 's3://demo/a2'],
          asset_name: ['a1', 'a2'],
          docdb_record_id: ['1', '2'],
          file_location: [],
        },
      });
      const path = process.env.PATH;
      process.env.PATH = `${venvBin}:${path ?? ''}`;
      try {
        const { outputs, files } = await run(task, objects);
        assert.deepEqual(files, ['bouts.csv', 'outputs.json']);
        assert.deepEqual(outputs, {
          sessions: 2,
          bout_count: 3,
          licks_in_bouts: 7,
          mean_licks_per_bout: 2.333333,
          mean_bout_duration_s: 0.266667,
        });
        await assert.rejects(
          run(makeTask(spec, { parameters: { min_licks_per_bout: 0 }, input: task.input }), objects),
          /"Lick Bouts": min_licks_per_bout: must be >= 1/,
        );
      } finally {
        process.env.PATH = path;
      }
    },
  );
});
