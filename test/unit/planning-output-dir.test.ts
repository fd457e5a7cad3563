import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { writeOutputDir } from '../../src/planning/output-dir';
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

describe('writeOutputDir', () => {
  test('writes every task round-robin over the worker folders, in the original shape', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'planning-output-'));
    assert.equal(await writeOutputDir(dir, jobs(7, 2), 3), 7);
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
      location_asset_id: ['id1'],
      file_extension_locations: ['s3://data/a1/f.nwb'],
      asset_name: ['a1'],
      analysis_spec: task(1).analysis,
      parameters: { n: 1 },
      hash: 'h1',
    });
    assert.equal(contents.find((content) => content.hash === 'h0').file_extension_locations, null);
  });

  test('no more folders than tasks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'planning-output-'));
    await writeOutputDir(dir, jobs(2, 1), 50);
    assert.deepEqual(readdirSync(dir).sort(), ['worker_0', 'worker_1']);
  });
});
