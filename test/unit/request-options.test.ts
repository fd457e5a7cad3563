import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Command } from 'commander';
import { addDispatchOptions, addFleetOptions } from '../../src/client/dispatch-flags';
import { loadConfig } from '../../src/config';
import { InputError } from '../../src/errors';
import { buildDispatchRequest, type DispatchFlags } from '../../src/request/options';

const dir = mkdtempSync(join(tmpdir(), 'planning-options-'));
const specPath = join(dir, 'spec.json');
writeFileSync(specPath, JSON.stringify([{ analysis_name: 'Unit Yield', analysis_version: 'v1' }]));
const csvPath = join(dir, 'ids.csv');
writeFileSync(csvPath, 'asset_id\na\nb\n');
const paramsPath = join(dir, 'params.json');
writeFileSync(paramsPath, JSON.stringify({ fixed_parameters: { a: 1 }, distributed_parameters: [{ b: 1 }] }));
const config = loadConfig({ ANALYSIS_BUCKET: 'results' });

/** Parses a command line with the CLI's own flags, so defaults come from commander. */
function parse(...args: string[]): DispatchFlags {
  const cmd = addFleetOptions(
    addDispatchOptions(new Command('dispatch').exitOverride().configureOutput({ writeErr: () => undefined })),
  );
  cmd.parse(['--analysis_spec', specPath, ...args], { from: 'user' });
  return cmd.opts();
}

const build = (...args: string[]) => buildDispatchRequest(parse(...args), config);
const rejects = (args: string[], ...parts: string[]) =>
  assert.throws(
    () => build(...args),
    (err: Error) => err instanceof InputError && parts.every((part) => err.message.includes(part)),
    args.join(' '),
  );

describe('buildDispatchRequest', () => {
  test('defaults', () => {
    assert.deepEqual(build('--query', '{"name": "x"}'), {
      query: { name: 'x' },
      asset_id_field: '_id',
      split_files: true,
      group_by: [],
      specs: [
        {
          analysis_name: 'Unit Yield',
          analysis_version: 'v1',
          analysis_libraries: [],
          analysis_parameters: {},
          s3_output_bucket: 'results',
          timeout: '2 hours',
          max_attempts: 3,
        },
      ],
      fixed_parameters: {},
      distributed_parameters: [],
      max_number_of_tasks_dispatched: undefined,
      tasks_per_job: 1,
      num_parallel_workers: 50,
      drop_null_groups: true,
      dry_run: false,
      force: false,
      priority: 3,
      fairness_key: userInfo().username,
      experimenters: [userInfo().username],
    });
  });

  test('--priority 1..5 and --fairness_key, the first experimenter by default', () => {
    const request = build('--query', '{}', '--priority', '1', '--fairness_key', 'imaging-team');
    assert.equal(request.priority, 1);
    assert.equal(request.fairness_key, 'imaging-team');
    const byExperimenter = buildDispatchRequest(
      { query: '{}', analysis_spec: specPath },
      { ...config, ANALYSIS_EXPERIMENTERS: ['Ada Lovelace', 'Alan Turing'] },
    );
    assert.equal(byExperimenter.fairness_key, 'Ada Lovelace');
    for (const bad of ['0', '6', '2.5', 'high', '-1'])
      rejects(['--query', '{}', '--priority', bad], '--priority', `"${bad}"`);
    rejects(['--query', '{}', '--fairness_key', 'x'.repeat(65)], '--fairness_key', '64 bytes');
  });

  test('experimenters come from ANALYSIS_EXPERIMENTERS when it is set', () => {
    const request = buildDispatchRequest(
      { query: '{}', analysis_spec: specPath },
      { ...config, ANALYSIS_EXPERIMENTERS: ['Ada Lovelace', 'Alan Turing'] },
    );
    assert.deepEqual(request.experimenters, ['Ada Lovelace', 'Alan Turing']);
  });

  test('reads every flag', () => {
    const request = build(
      '--use_data_assets',
      '1',
      '--asset_csv',
      csvPath,
      '--asset_id_field',
      'name',
      '--file_extension',
      '.csv',
      '--split_files',
      '0',
      '--group_by',
      'subject.subject_id, data_description.project_name',
      '--analysis_parameters',
      paramsPath,
      '--max_number_of_tasks_dispatched',
      '10',
      '--tasks_per_job',
      '5',
      '--num_parallel_workers',
      '50',
      '--dry_run',
      '1',
      '--force',
      '--rerun_changed_inputs',
      '1',
    );
    assert.deepEqual(request.asset_ids, ['a', 'b']);
    assert.equal(request.query, undefined);
    assert.equal(request.asset_id_field, 'name');
    assert.equal(request.file_extension, '.csv');
    assert.equal(request.split_files, false);
    assert.deepEqual(request.group_by, ['subject.subject_id', 'data_description.project_name']);
    assert.deepEqual(request.fixed_parameters, { a: 1 });
    assert.deepEqual(request.distributed_parameters, [{ b: 1 }]);
    assert.equal(request.max_number_of_tasks_dispatched, 10);
    assert.equal(request.tasks_per_job, 5);
    assert.equal(request.num_parallel_workers, 50);
    assert.equal(request.dry_run, true);
    assert.equal(request.force, true);
    assert.equal(request.rerun_changed_inputs, true);
    assert.equal(build('--query', '{}', '--rerun_changed_inputs', '0').rerun_changed_inputs, undefined);
  });

  test('an empty --file_extension means no file discovery', () => {
    assert.equal(build('--query', '{}', '--file_extension', '').file_extension, undefined);
  });

  test('counts must be positive whole numbers, naming the flag', () => {
    for (const flag of ['--num_parallel_workers', '--tasks_per_job', '--max_number_of_tasks_dispatched']) {
      for (const value of ['0', '-2', '1.5', 'abc', '1e3', '']) {
        if (value === '') continue;
        rejects(['--query', '{}', flag, value], flag, `"${value}"`);
      }
    }
  });

  test('0/1 flags accept only 0 or 1', () => {
    for (const flag of [
      '--split_files',
      '--dry_run',
      '--use_data_assets',
      '--rerun_changed_inputs',
      '--force',
    ]) {
      rejects(['--query', '{}', flag, 'yes'], flag, 'must be 0 or 1');
    }
  });

  test('0/1 flags also stand alone, meaning 1, wherever they are on the line', () => {
    const request = build('--query', '{}', '--rerun_changed_inputs', '--dry_run', '0');
    assert.equal(request.rerun_changed_inputs, true);
    assert.equal(request.dry_run, false);
    for (const flag of [
      '--force',
      '--dry_run',
      '--rerun_changed_inputs',
      '--split_files',
      '--drop_null_groups',
    ]) {
      const name = flag.slice(2) as
        'force' | 'dry_run' | 'rerun_changed_inputs' | 'split_files' | 'drop_null_groups';
      const value = (...args: string[]) => build('--query', '{}', ...args)[name] === true;
      assert.equal(value(flag), true, `${flag} alone`);
      assert.equal(value(flag, '1'), true, `${flag} 1`);
      assert.equal(value(`${flag}=1`), true, `${flag}=1`);
      assert.equal(value(flag, '0'), false, `${flag} 0`);
      assert.equal(value(`${flag}=0`), false, `${flag}=0`);
      assert.equal(value(flag, '--tasks_per_job', '2'), true, `${flag} before another flag`);
    }
    assert.equal(build('--query', '{}').force, false);
    assert.equal(build('--query', '{}').split_files, true);
    assert.deepEqual(build('--use_data_assets', '--asset_csv', csvPath).asset_ids, ['a', 'b']);
    assert.deepEqual(build('--use_data_asset_csv', '--asset_csv', csvPath).asset_ids, ['a', 'b']);
    rejects(['--query', '{}', '--force', 'yes'], '--force must be 0 or 1, got "yes"');
    rejects(
      ['--query', '{}', '--tolerated_failure_count', '9007199254740993'],
      '--tolerated_failure_count must be a whole number',
    );
  });

  test('exactly one way of selecting assets', () => {
    rejects([], 'choose the assets');
    rejects(['--query', '{}', '--use_data_assets', '1', '--asset_csv', csvPath], 'not both');
    rejects(['--use_data_assets', '1'], '--asset_csv');
    rejects(['--query', '{}', '--asset_csv', csvPath], '--use_data_assets 1');
  });

  test("the upstream dispatcher's flag names: --docdb_query, --use_data_asset_csv", () => {
    assert.deepEqual(build('--docdb_query', '{"name": "x"}').query, { name: 'x' });
    assert.deepEqual(build('--use_data_asset_csv', '1', '--asset_csv', csvPath).asset_ids, ['a', 'b']);
    assert.deepEqual(build('--query', '{"a": 1}', '--docdb_query', '{"a": 1}').query, { a: 1 });
    rejects(
      ['--query', '{"a": 1}', '--docdb_query', '{"a": 2}'],
      '--query and --docdb_query',
      'give it once',
    );
    rejects(
      ['--use_data_assets', '0', '--use_data_asset_csv', '1', '--asset_csv', csvPath],
      '--use_data_assets and --use_data_asset_csv',
    );
    rejects(['--use_data_asset_csv', 'yes', '--asset_csv', csvPath], 'must be 0 or 1');
  });

  test('--input_directory: its first CSV and its analysis_parameters.json, unless flags say otherwise', () => {
    const data = mkdtempSync(join(tmpdir(), 'input-directory-'));
    writeFileSync(join(data, 'b.csv'), 'asset_id\nfrom-b\n');
    writeFileSync(join(data, 'a.csv'), 'asset_id\nfrom-a\n');
    writeFileSync(join(data, 'analysis_parameters.json'), JSON.stringify({ fixed_parameters: { f: 1 } }));
    const fromDir = build('--use_data_asset_csv', '1', '--input_directory', data);
    assert.deepEqual(fromDir.asset_ids, ['from-a']);
    assert.deepEqual(fromDir.fixed_parameters, { f: 1 });
    const explicit = build(
      '--use_data_assets',
      '1',
      '--input_directory',
      data,
      '--asset_csv',
      csvPath,
      '--analysis_parameters',
      paramsPath,
    );
    assert.deepEqual(explicit.asset_ids, ['a', 'b']);
    assert.deepEqual(explicit.fixed_parameters, { a: 1 });
    assert.deepEqual(build('--query', '{}', '--input_directory', data).query, {});
    assert.deepEqual(build('--query', '{}', '--input_directory', data).fixed_parameters, { f: 1 });

    const empty = mkdtempSync(join(tmpdir(), 'input-directory-'));
    rejects(['--use_data_assets', '1', '--input_directory', empty], empty, 'holds no *.csv file');
    assert.deepEqual(build('--query', '{}', '--input_directory', empty).fixed_parameters, {});
    rejects(['--query', '{}', '--input_directory', join(empty, 'none')], '--input_directory', 'ENOENT');
    rejects(['--query', '{}', '--input_directory', csvPath], 'not a directory');
  });

  test('--filter_latest needs --filter_by; --unwind_list_fields must make groups', () => {
    const latest = build(
      '--query',
      '{}',
      '--filter_latest',
      'created',
      '--filter_by',
      'subject.subject_id, a.b',
    );
    assert.equal(latest.filter_latest, 'created');
    assert.deepEqual(latest.filter_by, ['subject.subject_id', 'a.b']);
    rejects(['--query', '{}', '--filter_latest', 'created'], '--filter_latest created needs --filter_by');
    rejects(['--query', '{}', '--filter_by', 'x'], '--filter_by is only read with --filter_latest');
    rejects(['--query', '{}', '--filter_latest', '$x', '--filter_by', 'x'], '--filter_latest');
    const unwound = build(
      '--query',
      '{}',
      '--group_by',
      'subjects.id,tags',
      '--unwind_list_fields',
      'subjects,tags',
    );
    assert.deepEqual(unwound.unwind_list_fields, ['subjects', 'tags']);
    rejects(['--query', '{}', '--unwind_list_fields', 'tags'], '--unwind_list_fields tags', 'change nothing');
    rejects(
      ['--query', '{}', '--group_by', 'tags', '--unwind_list_fields', 'tag'],
      '--unwind_list_fields tag',
    );
    assert.equal(build('--query', '{}', '--drop_null_groups', '0').drop_null_groups, false);
    rejects(['--query', '{}', '--drop_null_groups', '2'], '--drop_null_groups must be 0 or 1');
  });

  test('field paths are checked', () => {
    rejects(['--query', '{}', '--group_by', 'subject..id'], '--group_by');
    rejects(['--query', '{}', '--asset_id_field', '$where'], '--asset_id_field');
  });

  test('file errors surface as InputErrors', () => {
    rejects(['--query', '{"$where": "1"}'], '$where');
    rejects(['--use_data_assets', '1', '--asset_csv', join(dir, 'none.csv')], 'none.csv');
    rejects(['--query', '{}', '--analysis_parameters', join(dir, 'none.json')], 'none.json');
  });
});
