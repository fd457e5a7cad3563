import { userInfo } from 'node:os';
import type { Config } from '../config';
import { InputError } from '../errors';
import type { DispatchRequest } from '../types';
import { readAssetIdsCsv } from './csv';
import { parseQuery } from './query';
import { loadParameters, loadSpecs } from './spec';

/**
 * The dispatch flags as the CLI hands them over (see client/dispatch-flags.ts): strings, or values
 * as a programmatic caller gives them.
 */
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
    experimenters: config.ANALYSIS_EXPERIMENTERS.length ? config.ANALYSIS_EXPERIMENTERS : [loginName()],
  };
}

/** The user starting the dispatch; a container without a passwd entry still has a name to give. */
function loginName(): string {
  try {
    return userInfo().username || 'unknown';
  } catch {
    return process.env.USER || 'unknown';
  }
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
