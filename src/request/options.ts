import { userInfo } from 'node:os';
import type { Config } from '../config';
import { InputError } from '../errors';
import type { DispatchRequest } from '../types';
import { readAssetIdsCsv } from './csv';
import {
  aliased,
  atMost,
  binary,
  binaryText,
  binaryValue,
  DEFAULT_PARALLEL_WORKERS,
  fieldList,
  fieldPath,
  positiveInteger,
  text,
  type DispatchFlags,
} from './flag-values';
import { fairnessKeyOf, priorityOf } from './fleet-flags';
import { readInputDirectory, type InputDirectory } from './input-directory';
import { checkParameterKeys } from './parameter-keys';
import { parseQuery } from './query';
import { loadParameters, loadSpecs } from './spec';

export { DEFAULT_PARALLEL_WORKERS, type DispatchFlags } from './flag-values';

/** Validates the flags and reads the files they name; needs no server. */
export function buildDispatchRequest(options: DispatchFlags, config: Config): DispatchRequest {
  const inputDirPath = text(options, 'input_directory');
  const inputDir: InputDirectory = inputDirPath === undefined ? {} : readInputDirectory(inputDirPath);
  const source = assetSource(options, inputDir);

  const assetIdField = fieldPath(text(options, 'asset_id_field') ?? '_id', '--asset_id_field');
  const groupBy = fieldList(options, 'group_by');
  const grouping = groupingOptions(options, groupBy);
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
      text(options, 'num_parallel_workers') ?? String(DEFAULT_PARALLEL_WORKERS),
      '--num_parallel_workers',
    ),
  };
  const priority = priorityOf(options);
  const experimenters = config.ANALYSIS_EXPERIMENTERS.length ? config.ANALYSIS_EXPERIMENTERS : [loginName()];
  // The person who starts a dispatch is the default share: one person's backlog then cannot hold
  // a shared queue against everyone else's.
  const fairnessKey = fairnessKeyOf(options, experimenters[0]!);
  const splitFiles = binary(options, 'split_files', true);
  const dryRun = binary(options, 'dry_run', false);
  const rerunChangedInputs = binary(options, 'rerun_changed_inputs', false);

  // Files are read in the order their flags are usually given, so the first complaint is the first flag.
  const selection =
    source.kind === 'csv' ? { asset_ids: readAssetIdsCsv(source.path) } : { query: parseQuery(source.text) };
  const specPath = text(options, 'analysis_spec');
  if (specPath === undefined) throw new InputError('--analysis_spec FILE is required');
  // Workers' defaults for the run step, written into each spec so every task carries its policy.
  const specs = loadSpecs(specPath, config.ANALYSIS_BUCKET).map((spec) => ({
    ...spec,
    timeout: spec.timeout ?? config.ANALYSIS_TIMEOUT,
    max_attempts: spec.max_attempts ?? config.ANALYSIS_MAX_ATTEMPTS,
  }));
  // An explicit flag wins over what --input_directory holds.
  const parametersPath = text(options, 'analysis_parameters') ?? inputDir.parameters;
  const parameters = parametersPath === undefined ? undefined : loadParameters(parametersPath);
  checkParameterKeys(specs, {
    fixed_parameters: parameters?.fixed_parameters ?? {},
    distributed_parameters: parameters?.distributed_parameters ?? [],
  });

  return {
    ...selection,
    asset_id_field: assetIdField,
    ...(text(options, 'file_extension') ? { file_extension: text(options, 'file_extension') } : {}),
    split_files: splitFiles,
    group_by: groupBy,
    ...grouping,
    specs,
    fixed_parameters: parameters?.fixed_parameters ?? {},
    distributed_parameters: parameters?.distributed_parameters ?? [],
    ...numbers,
    dry_run: dryRun,
    force: binary(options, 'force', false),
    ...(rerunChangedInputs ? { rerun_changed_inputs: true } : {}),
    ...tolerance(options),
    priority,
    fairness_key: fairnessKey,
    experimenters,
  };
}

/** `--filter_latest`/`--filter_by`, `--unwind_list_fields` and `--drop_null_groups`, checked together. */
function groupingOptions(
  options: DispatchFlags,
  groupBy: string[],
): Pick<DispatchRequest, 'filter_latest' | 'filter_by' | 'unwind_list_fields' | 'drop_null_groups'> {
  const latestText = text(options, 'filter_latest');
  const latest = latestText === undefined ? undefined : fieldPath(latestText, '--filter_latest');
  const filterBy = fieldList(options, 'filter_by');
  if (latest !== undefined && filterBy.length === 0) {
    throw new InputError(
      `--filter_latest ${latest} needs --filter_by F1[,F2]: the fields whose groups each keep their newest asset`,
    );
  }
  if (latest === undefined && filterBy.length > 0)
    throw new InputError('--filter_by is only read with --filter_latest FIELD');
  const unwind = fieldList(options, 'unwind_list_fields');
  for (const field of unwind) {
    // A list field counts only through the groups it makes: itself, or a field inside its items.
    if (!groupBy.some((group) => group === field || group.startsWith(`${field}.`))) {
      throw new InputError(
        `--unwind_list_fields ${field}: not a --group_by field nor one holding a --group_by field, so unwinding it would change nothing`,
      );
    }
  }
  return {
    ...(latest !== undefined ? { filter_latest: latest, filter_by: filterBy } : {}),
    ...(unwind.length ? { unwind_list_fields: unwind } : {}),
    drop_null_groups: binary(options, 'drop_null_groups', true),
  };
}

type AssetSource = { kind: 'csv'; path: string } | { kind: 'query'; text: string };

/**
 * Exactly one way of choosing the assets: a query, or a CSV of ids (named by --asset_csv, or the
 * first CSV of --input_directory). Each flag also answers to the upstream dispatcher's name.
 */
function assetSource(options: DispatchFlags, inputDir: InputDirectory): AssetSource {
  const useCsv = binaryValue(
    aliased(options, 'use_data_assets', 'use_data_asset_csv', binaryText),
    '--use_data_assets',
    false,
  );
  const queryText = aliased(options, 'query', 'docdb_query');
  const csvFlag = text(options, 'asset_csv');
  if (useCsv && queryText !== undefined) {
    throw new InputError('give either --query or --use_data_assets 1 with --asset_csv, not both');
  }
  if (!useCsv && csvFlag !== undefined)
    throw new InputError('--asset_csv is only read with --use_data_assets 1');
  if (useCsv) {
    const path = csvFlag ?? inputDir.csv;
    if (path !== undefined) return { kind: 'csv', path };
    throw new InputError(
      text(options, 'input_directory') === undefined
        ? '--use_data_assets 1 needs --asset_csv FILE (or --input_directory DIR holding a *.csv file)'
        : `--use_data_assets 1: --input_directory ${text(options, 'input_directory')} holds no *.csv file (or give --asset_csv FILE)`,
    );
  }
  if (queryText === undefined) {
    throw new InputError('choose the assets: --query FILTER, or --use_data_assets 1 --asset_csv FILE');
  }
  return { kind: 'query', text: queryText };
}

/** The user starting the dispatch; a container without a passwd entry still has a name to give. */
function loginName(): string {
  try {
    return userInfo().username || 'unknown';
  } catch {
    return process.env.USER || 'unknown';
  }
}

/** A job of this many tasks has a history of about 6,500 events, under the 10,000 to stay below. */
const MAX_TASKS_PER_JOB = 500;

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
    if (!/^\d+$/.test(count) || !Number.isSafeInteger(Number(count)))
      throw new InputError(`--tolerated_failure_count must be a whole number of 0 or more, got "${count}"`);
    result.tolerated_failure_count = Number(count);
  }
  return result;
}
