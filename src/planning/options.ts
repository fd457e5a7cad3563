import type { Command } from 'commander';
import type { Config } from '../config';
import { InputError } from '../errors';
import type { DispatchRequest } from '../types';
import { readAssetIdsCsv } from './csv';
import { parseQuery } from './query';
import { loadParameters, loadSpecs } from './spec';

/**
 * Flags shared by `dispatch`, `plan` and `schedule create`, named as in the original dispatcher.
 * Values stay strings here: buildDispatchRequest validates them, so every mistake is an InputError
 * naming its flag rather than a parser error with another exit code.
 */
export function addDispatchOptions(cmd: Command): Command {
  return cmd
    .option('--query <json|file>', 'MongoDB filter selecting the assets, as JSON or a path to a JSON file')
    .option(
      '--use_data_assets <0|1>',
      'select the assets listed in --asset_csv instead of using --query',
      '0',
    )
    .option('--asset_csv <file>', 'CSV file with an "asset_id" column (with --use_data_assets 1)')
    .option('--asset_id_field <field>', 'asset field the CSV ids are matched against', '_id')
    .option(
      '--file_extension <ext>',
      'find the files under each asset whose key ends with this (e.g. .nwb); empty: the asset itself is the input',
    )
    .option('--split_files <0|1>', '1: one task per file; 0: one task per asset with all its files', '1')
    .option(
      '--group_by <fields>',
      'comma-separated (dotted) asset fields; assets sharing their values form one task with all their files',
    )
    .requiredOption('--analysis_spec <file>', 'JSON list of analysis specifications to run on every task')
    .option('--analysis_parameters <file>', 'JSON file with fixed_parameters and distributed_parameters')
    .option(
      '--max_number_of_tasks_dispatched <n>',
      'plan at most this many tasks (the first ones, in a stable order)',
    )
    .option('--tasks_per_job <n>', 'tasks run one after another in one job', '1')
    .option('--num_parallel_workers <n>', 'jobs running at the same time, at most', '20')
    .option('--dry_run <0|1>', '1: run the analyses but upload and record nothing', '0')
    .option('--force', 'also rerun tasks that already have a record, replacing it')
    .option(
      '--tolerated_failure_percent <p>',
      'failed tasks tolerated, in percent of the tasks to run (0-100): within it the dispatch ends as completed with failures; past it, no new jobs start',
    )
    .option(
      '--tolerated_failure_count <n>',
      'failed tasks tolerated, as a count (0 or more); with a percent too, the lower wins',
    );
}

/** What commander hands over; values arrive as strings, or as given by a programmatic caller. */
export type DispatchFlags = Partial<Record<string, unknown>>;

/** Validates the flags and reads the files they name; needs no server. */
export function buildDispatchRequest(options: DispatchFlags, config: Config): DispatchRequest {
  const useCsv = binary(options, 'use_data_assets', false);
  const queryText = text(options, 'query');
  const csvPath = text(options, 'asset_csv');
  if (useCsv && queryText !== undefined) {
    throw new InputError('give either --query or --use_data_assets 1 with --asset_csv, not both');
  }
  if (useCsv && csvPath === undefined) throw new InputError('--use_data_assets 1 needs --asset_csv FILE');
  if (!useCsv && csvPath !== undefined)
    throw new InputError('--asset_csv is only read with --use_data_assets 1');
  if (!useCsv && queryText === undefined) {
    throw new InputError('choose the assets: --query FILTER, or --use_data_assets 1 --asset_csv FILE');
  }

  const assetIdField = fieldPath(text(options, 'asset_id_field') ?? '_id', '--asset_id_field');
  const groupBy = [
    ...new Set(
      (text(options, 'group_by') ?? '')
        .split(',')
        .map((field) => field.trim())
        .filter(Boolean)
        .map((field) => fieldPath(field, '--group_by')),
    ),
  ];
  const maxTasks = text(options, 'max_number_of_tasks_dispatched');
  const numbers = {
    max_number_of_tasks_dispatched:
      maxTasks === undefined ? undefined : positiveInteger(maxTasks, '--max_number_of_tasks_dispatched'),
    tasks_per_job: atMost(
      positiveInteger(text(options, 'tasks_per_job') ?? '1', '--tasks_per_job'),
      MAX_TASKS_PER_JOB,
      '--tasks_per_job',
      "a job's workflow history grows by about 13 events per task and must stay well under Temporal's limits",
    ),
    num_parallel_workers: positiveInteger(
      text(options, 'num_parallel_workers') ?? '20',
      '--num_parallel_workers',
    ),
  };
  const splitFiles = binary(options, 'split_files', true);
  const dryRun = binary(options, 'dry_run', false);

  // Files are read in the order their flags are usually given, so the first complaint is the first flag.
  const selection = useCsv
    ? { asset_ids: readAssetIdsCsv(csvPath as string) }
    : { query: parseQuery(queryText as string) };
  const specPath = text(options, 'analysis_spec');
  if (specPath === undefined) throw new InputError('--analysis_spec FILE is required');
  // Workers' defaults for the run step, written into each spec so every task carries its policy.
  const specs = loadSpecs(specPath, config.ANALYSIS_BUCKET).map((spec) => ({
    ...spec,
    timeout: spec.timeout ?? config.ANALYSIS_TIMEOUT,
    max_attempts: spec.max_attempts ?? config.ANALYSIS_MAX_ATTEMPTS,
  }));
  const parametersPath = text(options, 'analysis_parameters');
  const parameters = parametersPath === undefined ? undefined : loadParameters(parametersPath);

  return {
    ...selection,
    asset_id_field: assetIdField,
    ...(text(options, 'file_extension') ? { file_extension: text(options, 'file_extension') } : {}),
    split_files: splitFiles,
    group_by: groupBy,
    specs,
    fixed_parameters: parameters?.fixed_parameters ?? {},
    distributed_parameters: parameters?.distributed_parameters ?? [],
    ...numbers,
    dry_run: dryRun,
    force: options.force === true || options.force === 'true',
    ...tolerance(options),
  };
}

/** A flag's value as trimmed text; absent when not given (or given as an empty string). */
function text(options: DispatchFlags, name: string): string | undefined {
  const value = options[name];
  if (value === undefined || value === null || value === false) return undefined;
  const trimmed = String(value).trim();
  return trimmed === '' ? undefined : trimmed;
}

function binary(options: DispatchFlags, name: string, fallback: boolean): boolean {
  const value = text(options, name);
  if (value === undefined) return fallback;
  if (value === '0') return false;
  if (value === '1') return true;
  throw new InputError(`--${name} must be 0 or 1, got "${value}"`);
}

/** A job of this many tasks has a history of about 6,500 events, under the 10,000 to stay below. */
const MAX_TASKS_PER_JOB = 500;

function atMost(value: number, max: number, flag: string, why: string): number {
  if (value > max) throw new InputError(`${flag} must be at most ${max}, got ${value}: ${why}`);
  return value;
}

function positiveInteger(value: string, flag: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(parsed) || parsed < 1) {
    throw new InputError(`${flag} must be a positive whole number, got "${value}"`);
  }
  return parsed;
}

/** A dotted document path; `$` would turn it into an operator and empty segments match nothing. */
function fieldPath(value: string, flag: string): string {
  if (value.startsWith('$') || value.split('.').some((segment) => segment.trim() === '')) {
    throw new InputError(`${flag}: "${value}" is not a field path (expected e.g. subject.subject_id)`);
  }
  return value;
}

/** `--tolerated_failure_percent` (0-100) and `--tolerated_failure_count` (0 or more). */
function tolerance(
  options: DispatchFlags,
): Pick<DispatchRequest, 'tolerated_failure_percent' | 'tolerated_failure_count'> {
  const percent = text(options, 'tolerated_failure_percent');
  const count = text(options, 'tolerated_failure_count');
  const result: Pick<DispatchRequest, 'tolerated_failure_percent' | 'tolerated_failure_count'> = {};
  if (percent !== undefined) {
    const value = Number(percent);
    if (!/^\d+(\.\d+)?$/.test(percent) || value > 100) {
      throw new InputError(`--tolerated_failure_percent must be a number from 0 to 100, got "${percent}"`);
    }
    result.tolerated_failure_percent = value;
  }
  if (count !== undefined) {
    if (!/^\d+$/.test(count))
      throw new InputError(`--tolerated_failure_count must be a whole number of 0 or more, got "${count}"`);
    result.tolerated_failure_count = Number(count);
  }
  return result;
}
