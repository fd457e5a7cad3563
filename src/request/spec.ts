import { z } from 'zod';
import { msToNumber } from '@temporalio/common/lib/time';
import { bucketPath } from '../config';
import { InputError } from '../errors';
import type { AnalysisSpec } from '../types';
import { formatIssue, formatIssues } from '../zod-issues';
import { readJsonFile } from './json-file';

/** A specification whose output bucket is known, as every planned task needs. */
export type ResolvedSpec = AnalysisSpec & { s3_output_bucket: string };

const requiredText = z
  .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
  .trim()
  .min(1, 'must not be empty');

/**
 * Taken as written, not rebuilt: a record schema copies each key by assignment, and a key named
 * `__proto__` then vanishes, so that two parameter sets differing only in it would be one task.
 */
const parameterObject = z.custom<Record<string, unknown>>(
  (value) => value !== null && typeof value === 'object' && !Array.isArray(value),
  { error: 'must be a JSON object' },
);

/** Checked with Temporal's own parser, so a value accepted here is one the job can use (specs, manifests). */
export const temporalDuration = z.string().refine((value) => {
  try {
    return msToNumber(value as Parameters<typeof msToNumber>[0]) > 0;
  } catch {
    return false;
  }
}, 'must be a positive duration such as "30 minutes" or "2h"');

export const downloadInputs = z.union(
  [z.boolean(), z.array(z.string().min(1).regex(/^[^/]/, 'must be relative to the asset'))],
  { error: 'must be true, false or a list of paths relative to each asset' },
);

/**
 * The code of the institute's current wrapper that ran this analysis before: its records (that
 * URL and version, the same inputs and parameters) count as done.
 */
const upstreamCode = z.strictObject(
  { url: requiredText, version: requiredText },
  {
    error: (issue) =>
      issue.code === 'invalid_type' ? 'must be a JSON object with url and version' : undefined,
  },
);

/** Strict, so that a misspelt field is reported instead of silently ignored. */
const specEntry = z.strictObject(
  {
    analysis_name: requiredText,
    analysis_version: requiredText,
    analysis_libraries: z
      .array(z.string().trim().min(1), { error: 'must be a list of package names' })
      .default([]),
    analysis_parameters: parameterObject.default({}),
    s3_output_bucket: bucketPath.optional(),
    command: z
      .array(z.string().min(1, 'must not hold empty arguments'), { error: 'must be a list of strings' })
      .min(1, 'must not be empty')
      .optional(),
    download_inputs: downloadInputs.optional(),
    timeout: temporalDuration.optional(),
    max_attempts: z.int().positive().optional(),
    upstream_code: upstreamCode.optional(),
  },
  { error: (issue) => (issue.code === 'invalid_type' ? 'must be a JSON object' : undefined) },
);

const specList = z
  .array(specEntry, { error: 'must be a JSON list of analysis specifications' })
  .min(1, 'must list at least one analysis specification');

/**
 * Specifications as a request stored in the database holds them (read back by a worker), checked
 * as an `--analysis_spec` file is; every entry must name its output bucket by then.
 */
export function checkSpecs(raw: unknown, source: string): ResolvedSpec[] {
  const result = specList.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => describeSpecIssue(issue, raw));
    throw new InputError(`${source}: ${problems.join('; ')}`);
  }
  return result.data.map((spec, index) => {
    if (!spec.s3_output_bucket)
      throw new InputError(`${source}: entry ${index} (${spec.analysis_name}): s3_output_bucket is not set`);
    return { ...spec, s3_output_bucket: spec.s3_output_bucket };
  });
}

/**
 * Specifications from an `--analysis_spec` file; `defaultBucket` (ANALYSIS_BUCKET) fills in a
 * missing `s3_output_bucket`.
 */
export function loadSpecs(path: string, defaultBucket?: string): ResolvedSpec[] {
  const raw = readJsonFile(path, '--analysis_spec');
  const result = specList.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => describeSpecIssue(issue, raw));
    throw new InputError(`--analysis_spec ${path}: ${problems.join('; ')}`);
  }
  return result.data.map((spec, index) => {
    const bucket = spec.s3_output_bucket ?? defaultBucket?.replace(/\/+$/, '');
    if (!bucket) {
      throw new InputError(
        `--analysis_spec ${path}: entry ${index} (${spec.analysis_name}): s3_output_bucket is not set and ANALYSIS_BUCKET is not configured`,
      );
    }
    return { ...spec, s3_output_bucket: bucket };
  });
}

/** `entry 1 (Unit Yield): analysis_version: is required` */
function describeSpecIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  const [index, ...rest] = issue.path;
  if (typeof index !== 'number') return formatIssue(issue);
  const name = Array.isArray(raw)
    ? (raw[index] as { analysis_name?: unknown } | undefined)?.analysis_name
    : undefined;
  const label =
    typeof name === 'string' && name.trim() ? `entry ${index} (${name.trim()})` : `entry ${index}`;
  return `${label}: ${formatIssue(issue, rest)}`;
}

export interface ParameterSets {
  fixed_parameters: Record<string, unknown>;
  distributed_parameters: Record<string, unknown>[];
}

const parametersFile = z.strictObject(
  {
    fixed_parameters: parameterObject.default({}),
    distributed_parameters: z
      .array(parameterObject, { error: 'must be a list of parameter objects' })
      .default([]),
  },
  {
    error: (issue) =>
      issue.code === 'invalid_type'
        ? 'must be a JSON object with fixed_parameters and/or distributed_parameters'
        : undefined,
  },
);

/** Contents of an `--analysis_parameters` file. */
export function loadParameters(path: string): ParameterSets {
  const result = parametersFile.safeParse(readJsonFile(path, '--analysis_parameters'));
  if (!result.success) {
    throw new InputError(`--analysis_parameters ${path}: ${formatIssues(result.error.issues)}`);
  }
  return result.data;
}
