import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Command } from 'commander';
import { addDispatchOptions } from '../../src/client/dispatch-flags';

describe('client/dispatch-flags', () => {
  test('addDispatchOptions declares every flag in snake_case with help text', () => {
    const cmd = addDispatchOptions(new Command('dispatch'));
    const flags = cmd.options.map((option) => option.long);
    for (const flag of [
      '--query',
      '--use_data_assets',
      '--asset_csv',
      '--asset_id_field',
      '--file_extension',
      '--split_files',
      '--group_by',
      '--analysis_spec',
      '--analysis_parameters',
      '--max_number_of_tasks_dispatched',
      '--tasks_per_job',
      '--num_parallel_workers',
      '--dry_run',
      '--force',
    ]) {
      assert.ok(flags.includes(flag), flag);
    }
    assert.ok(cmd.options.every((option) => option.description.length > 10));
  });

  test('addDispatchOptions makes --analysis_spec required', () => {
    const cmd = addDispatchOptions(
      new Command('plan').exitOverride().configureOutput({ writeErr: () => undefined }),
    );
    assert.throws(() => cmd.parse(['--query', '{}'], { from: 'user' }), /analysis_spec/);
  });
});
