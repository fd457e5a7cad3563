import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { AnalysisRecord, FlatAnalysisRecord, StoredRecord, Task } from '../../src/types';
import { aindErrors } from '../helpers/aind';
import { runCli } from '../helpers/cli';
import { seedAssets, writeSpec } from '../helpers/data';
import { FIXTURE_ANALYSES, testStack, type TestStack } from '../helpers/stack';

/** A command analysis that keeps the task file it was given as a result file. */
const KEEP_TASK = [
  'python3',
  '-c',
  'import os, shutil; shutil.copy(os.environ["ANALYSIS_TASK_FILE"], os.path.join(os.environ["ANALYSIS_RESULTS_DIR"], "task.json"))',
];

describe("the institute's formats", () => {
  let stack: TestStack;
  let dir: string;
  const records = () =>
    stack.mongo.db(stack.config.DOCDB_DATABASE).collection<StoredRecord>(stack.config.DOCDB_COLLECTION);
  const object = async (key: string) => {
    const answer = await stack.s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: key }));
    return JSON.parse(await answer.Body!.transformToString()) as unknown;
  };

  before(async () => {
    stack = await testStack('aind-formats');
    stack.env.ANALYSIS_MODULES_DIR = FIXTURE_ANALYSES;
    stack.env.ANALYSIS_EXPERIMENTERS = 'Ada Lovelace';
    // "Keep Task" is a spec command, which workers run only when allowed.
    stack.env.ANALYSIS_ALLOW_SPEC_COMMANDS = '1';
    await stack.startWorker({ ANALYSIS_MODULES_DIR: FIXTURE_ANALYSES });
    dir = mkdtempSync(join(tmpdir(), 'aind-formats-'));
  });
  after(async () => stack?.close());

  test('records, metadata.nd.json, task files and --output_dir files load with their packages', async () => {
    await seedAssets(stack, { count: 4, files: ['data/units.csv'] });
    const spec = writeSpec(dir, [
      { analysis_name: 'Noop', analysis_version: '1', analysis_parameters: { label: 'x' } },
      { analysis_name: 'Keep Task', analysis_version: '1', command: KEEP_TASK },
    ]);
    const out = join(dir, 'jobs');
    const query = '{"name": {"$regex": "^asset_"}}';
    const result = await runCli(
      [
        'dispatch',
        '--query',
        query,
        '--file_extension',
        '.csv',
        '--analysis_spec',
        spec,
        '--tasks_per_job',
        '3',
        '--output_dir',
        out,
        '--wait',
      ],
      stack.env,
    );
    assert.equal(result.code, 0, result.stderr + result.stdout);

    const written = await records().find().toArray();
    assert.equal(written.length, 8);
    assert.deepEqual(
      aindErrors('Metadata', written),
      written.map(() => []),
    );
    const copies = await Promise.all(written.map((record) => object(`${record._id}/metadata.nd.json`)));
    assert.deepEqual(
      aindErrors('Metadata', copies),
      copies.map(() => []),
    );
    assert.deepEqual(copies, written, 'metadata.nd.json is the record');

    // How the institute's result-access library finds analysis records, and what it reads.
    const found = await records()
      .find({ 'processing.data_processes.code.parameters.analysis_name': 'Noop' })
      .project<{ location: string }>({ location: 1 })
      .toArray();
    assert.equal(found.length, 4);
    for (const record of found)
      assert.match(record.location, new RegExp(`^s3://${stack.bucket}/[0-9a-f]{64}$`));

    for (const record of written) {
      const metadata = record as AnalysisRecord;
      const dataProcess = metadata.processing.data_processes[0]!;
      assert.deepEqual(dataProcess.experimenters, ['Ada Lovelace']);
      assert.equal(dataProcess.code.language, record.analysis_name === 'Noop' ? 'TypeScript' : 'Python');
      assert.ok(dataProcess.resources, 'the machine a run used');
      assert.ok(metadata.run_resources && metadata.run_resources.wall_time_s >= 0);
    }
    const command = written.filter((record) => record.analysis_name === 'Keep Task');
    const taskFiles = await Promise.all(command.map((record) => object(`${record._id}/task.json`)));
    assert.deepEqual(
      aindErrors('AnalysisDispatchModel', taskFiles),
      taskFiles.map(() => []),
    );
    for (const file of taskFiles as Array<Record<string, unknown>>) {
      assert.equal(file.query, JSON.stringify(JSON.parse(query)));
      assert.match(String((file.file_location as string[])[0]), /units\.csv$/);
      const code = file.analysis_code as { parameters: Record<string, unknown>; language: string };
      assert.equal(code.parameters.analysis_name, 'Keep Task');
      assert.equal(code.language, 'Python');
    }
    const python = (command[0] as AnalysisRecord | undefined)?.run_resources;
    if (process.platform === 'linux') assert.ok(python?.cpu_time_s !== undefined, 'CPU time of a command');

    // 8 tasks, 3 per job: job folders 0, 1, 2 as the current upstream dispatcher writes them.
    assert.deepEqual(readdirSync(out).sort(), ['0', '1', '2']);
    const jobFiles = readdirSync(out).flatMap((job) =>
      readdirSync(join(out, job)).map(
        (file) => JSON.parse(readFileSync(join(out, job, file), 'utf8')) as unknown,
      ),
    );
    assert.equal(jobFiles.length, 8);
    assert.deepEqual(
      aindErrors('AnalysisDispatchModel', jobFiles),
      jobFiles.map(() => []),
    );
  });

  test('records of the earlier flat format still count as done and list in results', async () => {
    await seedAssets(stack, { count: 3, namePrefix: 'flat', files: ['data/units.csv'] });
    const spec = writeSpec(dir, [{ analysis_name: 'Noop', analysis_version: 'flat' }], 'flat.json');
    const args = ['--query', '{"name": {"$regex": "^flat_"}}', '--analysis_spec', spec];
    const planned = await runCli(['plan', ...args, '--json'], stack.env);
    assert.equal(planned.code, 0, planned.stderr);
    const [first] = (JSON.parse(planned.stdout) as { tasks: Array<{ task: Task }> }).tasks.map(
      (entry) => entry.task,
    );
    const legacy: FlatAnalysisRecord = {
      _id: first!.hash,
      name: first!.hash,
      location: first!.location,
      analysis_name: 'Noop',
      analysis_version: 'flat',
      parameters: first!.parameters,
      input: first!.input,
      outputs: {},
      code: {},
      libraries: {},
      dispatch_id: 'earlier',
      worker_host: 'elsewhere',
      files: [],
      started_at: '2026-01-01T00:00:00.000Z',
      finished_at: '2026-01-01T00:00:01.000Z',
    };
    await records().insertOne(legacy);

    const result = await runCli(['dispatch', ...args, '--wait'], stack.env);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assert.match(result.stdout, /2 new, 1 already done/);
    const again = await runCli(['plan', ...args], stack.env);
    assert.match(again.stdout, /0 new, 3 already done/);

    const listed = await runCli(['results', '--analysis_version', 'flat', '--json'], stack.env);
    assert.equal(listed.code, 0, listed.stderr);
    const rows = JSON.parse(listed.stdout) as Array<{ _id: string; dispatch_id: string }>;
    assert.equal(rows.length, 3);
    assert.ok(rows.some((row) => row._id === legacy._id && row.dispatch_id === 'earlier'));
    const byAsset = await runCli(
      ['results', '--asset_name', legacy.input.asset_name[0]!, '--csv'],
      stack.env,
    );
    assert.match(byAsset.stdout, new RegExp(legacy._id));
  });
});
