import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Collection } from 'mongodb';
import { buildRecord, type RunFacts } from '../../src/aind/metadata';
import { identityHash } from '../../src/identity';
import {
  EXPLAIN_PROJECTION,
  explainLines,
  explainPlanned,
  explainTasks,
  identityDifferences,
  inputsKey,
  outputBucketOf,
  recordedIdentity,
  RecordIndex,
  rollUp,
  taskLabel,
  tasksToExplain,
  type Explanation,
} from '../../src/planning/explain';
import type { PlannedTask } from '../../src/planning/plan-dispatch';
import { readRecorded, recordedQuery } from '../../src/planning/task-status';
import type { FlatAnalysisRecord, StoredRecord, Task, TaskStatus } from '../../src/types';

/** A task as the planner makes it: its hash is its identity, its location under its bucket. */
function task(
  asset: string,
  parameters: Record<string, unknown>,
  overrides: Partial<Task['analysis']> = {},
): Task {
  const analysis = {
    analysis_name: 'Lick Rate',
    analysis_version: 'v1',
    analysis_libraries: ['numpy'],
    analysis_parameters: {},
    s3_output_bucket: 'results/lick',
    ...overrides,
  };
  const input = {
    s3_location: [`s3://data/${asset}`],
    asset_name: [asset],
    docdb_record_id: [asset],
    file_location: [],
  };
  const libraries = { numpy: '1.26.4' };
  const hash = identityHash({ analysis, parameters, input, libraries });
  return {
    hash,
    analysis,
    parameters,
    input,
    libraries,
    location: `s3://${analysis.s3_output_bucket}/${hash}`,
  };
}

const run = (finishedAt: string, commit = 'c0ffee1'): RunFacts => ({
  workerQueue: 'q',
  workDir: '/tmp/w',
  outputs: { licks: 1 },
  code: { repository: '/repo', commit },
  worker_host: 'host',
  started_at: finishedAt,
  finished_at: finishedAt,
});

const record = (of: Task, finishedAt = '2026-01-01T00:00:00.000Z', commit?: string): StoredRecord =>
  buildRecord(of, run(finishedAt, commit), 'd1', []);

function flatRecord(of: Task, finishedAt: string): FlatAnalysisRecord {
  return {
    _id: of.hash,
    name: of.hash,
    location: of.location,
    analysis_name: of.analysis.analysis_name,
    analysis_version: of.analysis.analysis_version,
    input: of.input,
    code: {},
    libraries: of.libraries,
    dispatch_id: 'd0',
    worker_host: 'host',
    files: [],
    parameters: of.parameters,
    outputs: {},
    started_at: finishedAt,
    finished_at: finishedAt,
  };
}

const planned = (
  of: Task,
  status: TaskStatus = 'new',
  will_run = status === 'new',
  inputs_changed = false,
): PlannedTask => ({ task: of, status, will_run, inputs_changed }) as PlannedTask;

/** Explains `tasks` against `records` as planning's read feeds them, without a database. */
function explain(tasks: PlannedTask[], records: StoredRecord[], commits = new Map<string, string>()) {
  const index = new RecordIndex(tasks.map(({ task: planned }) => planned));
  for (const stored of records) index.add(stored);
  return explainTasks(tasksToExplain(tasks), index, commits);
}

describe('planning/explain', () => {
  test('inputsKey is the analysis and its input locations, nothing else', () => {
    const a = task('a1', { window_s: 5 });
    const b = task('a1', { window_s: 7 }, { analysis_version: 'v2' });
    assert.equal(inputsKey('Lick Rate', a.input), inputsKey('Lick Rate', b.input));
    assert.notEqual(inputsKey('Lick Rate', a.input), inputsKey('Unit Yield', a.input));
    assert.notEqual(inputsKey('Lick Rate', a.input), inputsKey('Lick Rate', task('a2', {}).input));
    assert.notEqual(
      inputsKey('Lick Rate', a.input),
      inputsKey('Lick Rate', { ...a.input, file_location: ['s3://data/a1/x.nwb'] }),
    );
  });

  test('outputBucketOf is the bucket path of a record location, prefix kept', () => {
    assert.equal(outputBucketOf('s3://results/lick/abc', 'abc'), 'results/lick');
    assert.equal(outputBucketOf('s3://results/abc/', 'abc'), 'results');
    assert.equal(outputBucketOf('s3://results/lick/abc/run-0123456789abcdef', 'abc'), 'results/lick');
    assert.equal(outputBucketOf('s3://results/p/other', 'abc'), 'results/p');
    assert.equal(outputBucketOf(undefined, 'abc'), undefined);
    assert.equal(outputBucketOf('file:///x/abc', 'abc'), undefined);
  });

  test('recordedIdentity reads both formats; analysis name and version are no parameters', () => {
    const of = task('a1', { window_s: 5 });
    const aind = recordedIdentity(record(of, '2026-02-01T00:00:00.000Z'));
    assert.deepEqual(aind, {
      hash: of.hash,
      analysis_version: 'v1',
      libraries: { numpy: '1.26.4' },
      parameters: { window_s: 5 },
      output_bucket: 'results/lick',
      commit: 'c0ffee1',
      finished_at: '2026-02-01T00:00:00.000Z',
    });
    const flat = recordedIdentity(flatRecord(of, '2025-01-01T00:00:00.000Z'));
    assert.deepEqual(flat, {
      hash: of.hash,
      analysis_version: 'v1',
      libraries: { numpy: '1.26.4' },
      parameters: { window_s: 5 },
      output_bucket: 'results/lick',
      finished_at: '2025-01-01T00:00:00.000Z',
    });
  });

  test('identityDifferences names each differing field with its old and new value', () => {
    const old = task('a1', { window_s: 5, smooth: { kind: 'box', width: 3 }, bins: [1, 2], dropped: true });
    const current = task(
      'a1',
      { window_s: 7, smooth: { kind: 'box', width: 4 }, bins: [1, 2], added: 'x' },
      { analysis_version: 'v2', s3_output_bucket: 'results/lick2' },
    );
    current.libraries = { numpy: '2.0.0', scipy: '1.13.0' };
    assert.deepEqual(identityDifferences(recordedIdentity(record(old)), current), [
      { field: 'analysis_version', old: 'v1', new: 'v2' },
      { field: 'library', name: 'numpy', old: '1.26.4', new: '2.0.0' },
      { field: 'library', name: 'scipy', new: '1.13.0' },
      { field: 'output_bucket', old: 'results/lick', new: 'results/lick2' },
      { field: 'parameter', name: 'added', new: 'x' },
      { field: 'parameter', name: 'dropped', old: true },
      { field: 'parameter', name: 'smooth.width', old: 3, new: 4 },
      { field: 'parameter', name: 'window_s', old: 5, new: 7 },
    ]);
    assert.deepEqual(identityDifferences(recordedIdentity(record(old)), old), []);
  });

  test('explainTasks: a new task against the latest unclaimed record of its inputs', () => {
    const v5 = task('a1', { window_s: 5 });
    const v6 = task('a1', { window_s: 6 });
    const v7 = task('a1', { window_s: 7 });
    const other = task('a2', { window_s: 7 });
    const records = [
      record(v6, '2026-03-01T00:00:00.000Z'),
      flatRecord(v5, '2026-01-01T00:00:00.000Z'),
      record(task('a1', { window_s: 4 }), '2025-01-01T00:00:00.000Z'),
    ];
    const [seven, none] = explain([planned(v7), planned(other)], records);
    assert.deepEqual(seven, {
      hash: v7.hash,
      status: 'new',
      will_run: true,
      reason: 'changed',
      record: { hash: v6.hash, finished_at: '2026-03-01T00:00:00.000Z' },
      differences: [{ field: 'parameter', name: 'window_s', old: 6, new: 7 }],
    });
    assert.deepEqual(none, {
      hash: other.hash,
      status: 'new',
      will_run: true,
      reason: 'no_earlier_record',
      differences: [],
    });
    // The window_s 6 record belongs to a task of this plan: it explains nothing about window_s 7.
    const [claimed] = explain([planned(v7), planned(v6, 'done')], records);
    assert.equal(claimed?.record?.hash, v5.hash);
    assert.deepEqual(claimed?.differences, [{ field: 'parameter', name: 'window_s', old: 5, new: 7 }]);
  });

  test('explainTasks: changed code names both commits; forced and changed inputs say so; done ones are left out', () => {
    const changed = task('a1', { window_s: 5 });
    const forced = task('a2', { window_s: 5 });
    const done = task('a3', { window_s: 5 });
    const inputs = task('a4', { window_s: 5 });
    const records = [record(changed, undefined, 'aaaaaaa1'), record(forced), record(done), record(inputs)];
    const result = explain(
      [
        planned(changed, 'changed_code'),
        planned(forced, 'done', true),
        planned(done, 'done'),
        planned(inputs, 'done', true, true),
      ],
      records,
      new Map([[changed.hash, 'bbbbbbb2']]),
    );
    assert.deepEqual(
      result.map(({ reason, differences, record: against }) => [reason, differences, against?.hash]),
      [
        ['changed_code', [{ field: 'commit', old: 'aaaaaaa1', new: 'bbbbbbb2' }], changed.hash],
        ['forced', [], forced.hash],
        ['inputs_changed', [], inputs.hash],
      ],
    );
  });

  test('tasksToExplain keeps tasks that will run and those done by different code', () => {
    const tasks = [
      planned(task('a1', {}), 'new', true),
      planned(task('a2', {}), 'new', false),
      planned(task('a3', {}), 'done', false),
      planned(task('a4', {}), 'changed_code', false),
      planned(task('a5', {}), 'done', true),
    ];
    assert.deepEqual(
      tasksToExplain(tasks).map(({ task: { input } }) => input.asset_name[0]),
      ['a1', 'a4', 'a5'],
    );
  });

  test('rollUp groups tasks by the same differences, biggest group first, a few examples each', () => {
    const differ = (window: number): Explanation['differences'] => [
      { field: 'parameter', name: 'window_s', old: 5, new: window },
    ];
    const explanations: Explanation[] = [
      ...['h1', 'h2', 'h3', 'h4'].map((hash) => changedTo(hash, differ(7))),
      changedTo('h5', differ(9)),
      { hash: 'h6', status: 'new', will_run: true, reason: 'no_earlier_record', differences: [] },
      { hash: 'h7', status: 'new', will_run: true, reason: 'no_earlier_record', differences: [] },
    ];
    const labels = new Map(explanations.map(({ hash }) => [hash, `asset_${hash}`]));
    assert.deepEqual(
      rollUp(explanations, labels).map(({ tasks, reason, examples }) => [tasks, reason, examples]),
      [
        [4, 'changed', ['asset_h1', 'asset_h2', 'asset_h3']],
        [2, 'no_earlier_record', ['asset_h6', 'asset_h7']],
        [1, 'changed', ['asset_h5']],
      ],
    );
    assert.deepEqual(explainLines(explanations, labels, 3), [
      'explain: 7 tasks, 5 with an earlier record of the same inputs under another identity',
      '  4 tasks: window_s 5 -> 7 (e.g. asset_h1, asset_h2, asset_h3)',
      '  2 tasks: no earlier record (e.g. asset_h6, asset_h7)',
      '  1 task: window_s 5 -> 9 (e.g. asset_h5)',
      '  (--json explains each of the 7 tasks)',
    ]);
  });

  test('explainLines words every kind of difference, and each task while there are few', () => {
    const lines = explainLines(
      [
        changedTo('h1', [
          { field: 'analysis_version', old: 'v1', new: 'v2' },
          { field: 'library', name: 'numpy', old: '1.26.4', new: '2.0.0' },
          { field: 'output_bucket', old: 'results/a', new: 'results/b' },
          { field: 'parameter', name: 'label', old: 'two words', new: 'x' },
          { field: 'parameter', name: 'added', new: [1, 2] },
        ]),
        {
          hash: 'h2'.padEnd(64, '0'),
          status: 'changed_code',
          will_run: false,
          reason: 'changed_code',
          record: { hash: 'h2'.padEnd(64, '0') },
          differences: [{ field: 'commit', old: 'a'.repeat(40), new: 'b'.repeat(40) }],
        },
      ],
      new Map([['h1', 'asset_1']]),
    );
    assert.deepEqual(lines.slice(1, 3), [
      '  1 task: analysis_version v1 -> v2, library numpy 1.26.4 -> 2.0.0, output_bucket results/a -> results/b, label "two words" -> x, added (none) -> [1,2] (e.g. asset_1)',
      `  1 task: done by different code: commit ${'a'.repeat(12)} -> ${'b'.repeat(12)} (e.g. h20000000000)`,
    ]);
    assert.equal(lines[3], 'each task:');
    assert.match(lines[4]!, /^ {2}asset_1 \(h1\): analysis_version v1 -> v2, /);
    assert.match(
      lines[5]!,
      /^ {2}h20000000000 \(h20000000000\): done by different code: commit a+ -> b+ \[record h20000000000\]$/,
    );
  });

  test('taskLabel names the asset, the rest of its group and its one file', () => {
    const one = task('a1', {});
    assert.equal(taskLabel(one), 'a1');
    assert.equal(
      taskLabel({ ...one, input: { ...one.input, file_location: ['s3://data/a1/x/units.csv'] } }),
      'a1 units.csv',
    );
    assert.equal(
      taskLabel({ ...one, input: { ...one.input, asset_name: ['a1', 'a2', 'a3'] } }),
      'a1 (+2 assets)',
    );
  });

  test('RecordIndex reads along with planning: one read, its fields added to the projection', async () => {
    const old = Array.from({ length: 50 }, (_, i) => task(`a${i}`, { window_s: 5 }));
    const current = old.map((of) => task(of.input.asset_name[0]!, { window_s: 7 }));
    const stored = [...old.map((of) => record(of)), record(task('a0', {}, { analysis_name: 'Other' }))];
    const calls: Array<{ filter: unknown; options: { projection: Record<string, 1> } }> = [];
    const records = {
      find(filter: unknown, options: { projection: Record<string, 1> }) {
        calls.push({ filter, options });
        return {
          async *[Symbol.asyncIterator]() {
            yield* stored;
          },
          close: async () => undefined,
        };
      },
    } as unknown as Collection<StoredRecord>;
    const index = new RecordIndex(current);
    await readRecorded(records, recordedQuery(current), index);
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0]?.filter, { analysis_name: { $in: ['Lick Rate'] } });
    for (const field of Object.keys(EXPLAIN_PROJECTION)) assert.equal(calls[0]?.options.projection[field], 1);
    assert.equal(calls[0]?.options.projection['code.commit'], 1);
    const result = await explainPlanned(
      index,
      current.map((of) => planned(of)),
      async () => 'c1',
    );
    assert.equal(result.length, 50);
    assert.ok(result.every(({ reason, differences }) => reason === 'changed' && differences.length === 1));
    assert.equal(calls.length, 1);
  });

  test('explainPlanned names the inputs that changed since the record of a rerun task', async () => {
    const of = task('a1', { window_s: 5 });
    const index = new RecordIndex([of]);
    index.add(record(of));
    const url = 's3://data/a1/units.csv';
    const [explanation] = await explainPlanned(
      index,
      [
        {
          ...planned(of, 'done', true, true),
          changed_inputs: [
            { url, recorded: { url, size: 10, etag: 'e1' }, current: { url, size: 12, etag: 'e2' } },
          ],
        },
      ],
      async () => 'c1',
    );
    assert.equal(explanation?.reason, 'inputs_changed');
    assert.deepEqual(explanation?.differences, [
      { field: 'input', name: url, old: { url, size: 10, etag: 'e1' }, new: { url, size: 12, etag: 'e2' } },
    ]);
    assert.deepEqual(explainLines([explanation!], new Map([[of.hash, 'a1']])).slice(1, 2), [
      '  1 task: already done, an input changed since: input units.csv size 10 -> 12, etag e1 -> e2 (e.g. a1)',
    ]);
  });
});

function changedTo(hash: string, differences: Explanation['differences']): Explanation {
  return {
    hash,
    status: 'new',
    will_run: true,
    reason: 'changed',
    record: { hash: `old-${hash}` },
    differences,
  };
}
