import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { analysisCode } from '../../src/aind/metadata';
import { writeOutputDir } from '../../src/client/output-dir';
import type { Task } from '../../src/types';

const task = (n: number): Task => ({
  hash: `h${n}`,
  analysis: {
    analysis_name: 'A',
    analysis_version: 'v1',
    analysis_libraries: [],
    analysis_parameters: {},
    s3_output_bucket: 'out',
  },
  parameters: { n },
  input: {
    s3_location: [`s3://data/a${n}`],
    asset_name: [`a${n}`],
    docdb_record_id: [`id${n}`],
    file_location: n % 2 ? [`s3://data/a${n}/f.nwb`] : [],
  },
  libraries: {},
  location: `s3://out/h${n}`,
});

async function* jobs(count: number, perJob: number) {
  for (let index = 0; index * perJob < count; index++) {
    yield {
      index,
      tasks: Array.from({ length: Math.min(perJob, count - index * perJob) }, (_, i) =>
        task(index * perJob + i),
      ),
    };
  }
}

const options = (numWorkers: number, tasksPerJob: number) => ({
  numWorkers,
  tasksPerJob,
  codeOf: async (t: Task) => analysisCode(t),
});

describe('writeOutputDir', () => {
  test('one task per job: every task round-robin over the worker folders', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'planning-output-'));
    assert.equal(await writeOutputDir(dir, jobs(7, 1), options(3, 1)), 7);
    assert.deepEqual(readdirSync(dir).sort(), ['worker_0', 'worker_1', 'worker_2']);
    const counts = readdirSync(dir)
      .sort()
      .map((worker) => readdirSync(join(dir, worker)).length);
    assert.deepEqual(counts, [3, 2, 2]);
    const contents = readdirSync(dir).flatMap((worker) =>
      readdirSync(join(dir, worker)).map((file) => {
        assert.match(file, /^[0-9a-f-]{36}\.json$/);
        return JSON.parse(readFileSync(join(dir, worker, file), 'utf8'));
      }),
    );
    const first = contents.find((content) => content.hash === 'h1');
    assert.deepEqual(first, {
      s3_location: ['s3://data/a1'],
      asset_name: ['a1'],
      docdb_record_id: ['id1'],
      file_location: ['s3://data/a1/f.nwb'],
      distributed_parameters: null,
      group_metadata: null,
      query: null,
      analysis_code: analysisCode(task(1)),
      location_asset_id: ['id1'],
      file_extension_locations: ['s3://data/a1/f.nwb'],
      analysis_spec: task(1).analysis,
      parameters: { n: 1 },
      hash: 'h1',
      location: 's3://out/h1',
    });
    const h0 = contents.find((content) => content.hash === 'h0');
    assert.equal(h0.file_extension_locations, null);
    assert.equal(h0.file_location, null);
  });

  test('several tasks per job: one folder per job, named by its index', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'planning-output-'));
    assert.equal(await writeOutputDir(dir, jobs(5, 2), options(50, 2)), 5);
    assert.deepEqual(readdirSync(dir).sort(), ['0', '1', '2']);
    assert.deepEqual(
      ['0', '1', '2'].map((job) => readdirSync(join(dir, job)).length),
      [2, 2, 1],
    );
  });

  test('no more folders than tasks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'planning-output-'));
    await writeOutputDir(dir, jobs(2, 1), options(50, 1));
    assert.deepEqual(readdirSync(dir).sort(), ['worker_0', 'worker_1']);
  });
});
