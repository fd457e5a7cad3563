import { canonicalJson, identityHash } from '../identity';
import { InputError } from '../errors';
import { s3Url } from '../storage/s3-url';
import type { AnalysisSpec, DispatchRequest, Task, TaskInput } from '../types';
import { valueAt } from './document';
import { parameterSets } from './parameters';
import type { SelectedAsset } from './select';

export interface ExpandInput {
  assets: SelectedAsset[];
  /** Files per asset location; present exactly when `--file_extension` was given. */
  files?: Map<string, string[]>;
  request: Pick<
    DispatchRequest,
    'file_extension' | 'split_files' | 'group_by' | 'specs' | 'fixed_parameters' | 'distributed_parameters'
  >;
  /** Recorded library versions of each spec, in `request.specs` order. */
  libraries: Record<string, string>[];
}

export interface Expansion {
  tasks: Task[];
  assets_without_files: number;
  warnings: string[];
}

/** What one task reads: an asset, one of its files, or a whole group. */
interface Unit {
  input: TaskInput;
  group?: Record<string, unknown>;
}

/**
 * Inputs x specs x parameter sets, in a stable order (assets by id, files by key, groups by their
 * values) so that planning the same request twice gives the same tasks in the same order.
 */
export function expandTasks({ assets, files, request, libraries }: ExpandInput): Expansion {
  const warnings: string[] = [];
  const sorted = [...assets].sort((a, b) => compare(a.id, b.id));
  const withFiles = files
    ? keepAssetsWithFiles(sorted, files, request.file_extension ?? '', warnings)
    : sorted;
  const units = request.group_by.length
    ? groupUnits(withFiles, files, request.group_by, warnings)
    : assetUnits(withFiles, files, request.split_files);

  const specs = request.specs.map((spec, index) => ({
    analysis: withBucket(spec),
    libraries: libraries[index] ?? {},
    sets: parameterSets(spec, request),
  }));
  const seen = new Set<string>();
  let duplicates = 0;
  const tasks: Task[] = [];
  for (const unit of units) {
    for (const spec of specs) {
      for (const set of spec.sets) {
        const identity = {
          analysis: spec.analysis,
          parameters: set.parameters,
          input: unit.input,
          libraries: spec.libraries,
        };
        const hash = identityHash(identity);
        // Identical specs or parameter entries would plan one task twice, and run it twice.
        if (seen.has(hash)) {
          duplicates += 1;
          continue;
        }
        seen.add(hash);
        const location = s3Url(spec.analysis.s3_output_bucket, hash);
        tasks.push({
          hash,
          ...identity,
          ...(unit.group ? { group: unit.group } : {}),
          ...(set.distributed ? { distributed_parameters: set.distributed } : {}),
          location,
        });
      }
    }
  }
  if (duplicates)
    warnings.push(`${duplicates} duplicate tasks (same analysis, parameters and input) planned once`);

  return { tasks, assets_without_files: sorted.length - withFiles.length, warnings };
}

function keepAssetsWithFiles(
  assets: SelectedAsset[],
  files: Map<string, string[]>,
  extension: string,
  warnings: string[],
): SelectedAsset[] {
  return assets.filter((asset) => {
    if (files.get(asset.location)?.length) return true;
    warnings.push(
      `asset ${asset.name || asset.id} has no file ending with "${extension}" under ${asset.location}`,
    );
    return false;
  });
}

function assetUnits(
  assets: SelectedAsset[],
  files: Map<string, string[]> | undefined,
  splitFiles: boolean,
): Unit[] {
  return assets.flatMap((asset) => {
    const assetFiles = files?.get(asset.location) ?? [];
    if (files && splitFiles) return assetFiles.map((file) => ({ input: inputOf([asset], [file]) }));
    return [{ input: inputOf([asset], assetFiles) }];
  });
}

/** One unit per distinct combination of the `--group_by` values, carrying every member and file. */
function groupUnits(
  assets: SelectedAsset[],
  files: Map<string, string[]> | undefined,
  fields: string[],
  warnings: string[],
): Unit[] {
  const groups = new Map<string, { values: Record<string, unknown>; members: SelectedAsset[] }>();
  const missing = new Map<string, number>();
  for (const asset of assets) {
    const values = Object.fromEntries(
      fields.map((field) => {
        const value = plain(valueAt(asset.doc, field));
        if (value === null) missing.set(field, (missing.get(field) ?? 0) + 1);
        return [field, value];
      }),
    );
    const key = canonicalJson(fields.map((field) => values[field]));
    const group = groups.get(key) ?? { values, members: [] };
    group.members.push(asset);
    groups.set(key, group);
  }
  for (const [field, count] of missing) {
    warnings.push(`${count} assets have no ${field}; they are grouped together under ${field} = null`);
  }
  return [...groups.entries()]
    .sort(([a], [b]) => compare(a, b))
    .map(([, { values, members }]) => ({
      input: inputOf(
        members,
        members.flatMap((member) => files?.get(member.location) ?? []),
      ),
      group: values,
    }));
}

/** Dates and ObjectIds as their JSON strings: tasks are plain data, and groups compare by JSON. */
function plain(value: unknown): unknown {
  return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as unknown);
}

function inputOf(members: SelectedAsset[], fileLocations: string[]): TaskInput {
  return {
    s3_location: members.map((asset) => asset.location),
    asset_name: members.map((asset) => asset.name),
    docdb_record_id: members.map((asset) => asset.id),
    file_location: fileLocations,
  };
}

function withBucket(spec: AnalysisSpec): AnalysisSpec & { s3_output_bucket: string } {
  if (!spec.s3_output_bucket) {
    throw new InputError(
      `analysis "${spec.analysis_name}" has no s3_output_bucket and ANALYSIS_BUCKET is not set`,
    );
  }
  return { ...spec, s3_output_bucket: spec.s3_output_bucket };
}

/** Code-unit order: locale-independent, so every machine plans the same order. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
