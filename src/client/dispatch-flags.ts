import { Option, type Command } from 'commander';
import { DEFAULT_PARALLEL_WORKERS } from '../request/flag-values';

/**
 * A yes/no flag as users type it: alone (`--force`, which commander hands over as `true`) it
 * means 1, and `--force 0` or `--force=1` work as well. Planning checks the value, as every other
 * flag's.
 */
export function binaryOption(flag: string, description: string, fallback?: '0' | '1'): Option {
  const option = new Option(`${flag} [0|1]`, `${description} (alone: 1)`);
  return fallback === undefined ? option : option.default(fallback);
}

/**
 * Flags shared by `dispatch`, `plan` and `schedule create`, named as in the original dispatcher.
 * Values stay strings here: planning's buildDispatchRequest validates them, so every mistake is
 * an InputError naming its flag rather than a parser error with another exit code.
 */
export function addDispatchOptions(cmd: Command): Command {
  return cmd
    .option('--query <json|file>', 'MongoDB filter selecting the assets, as JSON or a path to a JSON file')
    .option('--docdb_query <json|file>', "the same as --query (the upstream dispatcher's name)")
    .addOption(
      binaryOption(
        '--use_data_assets',
        'select the assets listed in --asset_csv instead of using --query (default 0)',
      ),
    )
    .addOption(
      binaryOption('--use_data_asset_csv', "the same as --use_data_assets (the upstream dispatcher's name)"),
    )
    .option('--asset_csv <file>', 'CSV file with an "asset_id" column (with --use_data_assets 1)')
    .option(
      '--input_directory <dir>',
      'a data folder as the upstream capsule reads it: its first *.csv is the asset CSV (with --use_data_assets 1) and its analysis_parameters.json the parameters file, unless --asset_csv or --analysis_parameters say otherwise',
    )
    .option('--asset_id_field <field>', 'asset field the CSV ids are matched against', '_id')
    .option(
      '--file_extension <ext>',
      'find the files under each asset whose key ends with this (e.g. .nwb); empty: the asset itself is the input',
    )
    .addOption(
      binaryOption('--split_files', '1: one task per file; 0: one task per asset with all its files', '1'),
    )
    .option(
      '--group_by <fields>',
      'comma-separated (dotted) asset fields; assets sharing their values form one task with all their files',
    )
    .option(
      '--filter_latest <field>',
      'keep, of the selected assets, only the newest by this field (e.g. created) within each --filter_by group',
    )
    .option(
      '--filter_by <fields>',
      'comma-separated (dotted) asset fields whose groups --filter_latest works in',
    )
    .option(
      '--unwind_list_fields <fields>',
      'comma-separated list fields (or fields holding --group_by fields) each of whose values is its own group membership; a single value counts as a list of one',
    )
    .addOption(
      binaryOption(
        '--drop_null_groups',
        '1: leave out (and count) assets that have no value for a --group_by or --filter_by field; 0: group them under null',
        '1',
      ),
    )
    .requiredOption('--analysis_spec <file>', 'JSON list of analysis specifications to run on every task')
    .option('--analysis_parameters <file>', 'JSON file with fixed_parameters and distributed_parameters')
    .option(
      '--max_number_of_tasks_dispatched <n>',
      'plan at most this many tasks (the first ones, in a stable order)',
    )
    .option('--tasks_per_job <n>', 'tasks run one after another in one job', '1')
    .option(
      '--num_parallel_workers <n>',
      'jobs running at the same time, at most',
      String(DEFAULT_PARALLEL_WORKERS),
    )
    .addOption(binaryOption('--dry_run', '1: run the analyses but upload and record nothing', '0'))
    .addOption(binaryOption('--force', '1: also rerun tasks that already have a record, replacing it'))
    .addOption(
      binaryOption(
        '--rerun_changed_inputs',
        '1: also rerun the done tasks an input of which changed since their record (ETag, size, or a folder listing), replacing it; 0 (default): report them',
        '0',
      ),
    )
    .option(
      '--tolerated_failure_percent <p>',
      'failed tasks tolerated, in percent of the tasks to run (0-100): within it the dispatch ends as completed with failures; past it, no new jobs start',
    )
    .option(
      '--tolerated_failure_count <n>',
      'failed tasks tolerated, as a count (0 or more); with a percent too, the lower wins',
    );
}

/**
 * How a dispatch shares the fleet: `dispatch`, `retry` and `schedule create` take these. A retry
 * keeps the first dispatch's priority and fairness key unless told otherwise.
 */
export function addFleetOptions(cmd: Command, retry = false): Command {
  const fallback = (usual: string) => (retry ? 'default: as the first dispatch' : usual);
  return cmd
    .option(
      '--priority <1-5>',
      `task queue priority of all its jobs and steps: 1 runs first, 5 last (${fallback('default 3')})`,
    )
    .option(
      '--fairness_key <key>',
      `dispatches with different keys take turns on a shared queue (${fallback('default: the experimenter')})`,
    )
    .option(
      '--notify <url>',
      'POST a JSON message (with a chat-ready "text") to this http(s) URL when the dispatch ends (default: ANALYSIS_NOTIFY_URL)',
    );
}
