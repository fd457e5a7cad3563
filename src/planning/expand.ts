import { canonicalJson, identityHash } from '../identity';
import { InputError } from '../errors';
import { s3Url } from '../storage/s3-url';
import type { AnalysisSpec, DispatchRequest, Task, TaskInput } from '../types';
import { groupAssets, type GroupRequest } from './groups';
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
    ? groupUnits(withFiles, files, request, warnings)
    : assetUnits(withFiles, files, request.split_files);

  const specs = request.specs.map((spec, index) => ({
    analysis: withBucket(spec),
    libraries: libraries[index] ?? {},
    sets: parameterSets(spec, request),
  }));
  const seen = new Set<string>();
  /** The group of the first task of each identity, as canonical JSON. */
  const firstGroup = new Map<string, string>();
  let duplicates = 0;
  const tasks: Task[] = [];
  for (const unit of units) {
    const groupKey = canonicalJson(unit.group ?? null);
    for (const spec of specs) {
      for (const set of spec.sets) {
        const identity = {
          analysis: spec.analysis,
          parameters: set.parameters,
          input: unit.input,
          libraries: spec.libraries,
        };
        let hash = identityHash(identity);
        // Another group reading the same input (an asset unwound into two groups) is a task of
        // its own, told apart by its values; the first keeps the plain identity it always had.
        const first = firstGroup.get(hash);
        if (first === undefined) firstGroup.set(hash, groupKey);
        else if (first !== groupKey && unit.group) hash = identityHash(identity, unit.group);
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
    warnings.push(`${duplicates} duplicate tasks (same analysis, parameters, input and group) planned once`);

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

/** One unit per group, carrying every member and their files. */
function groupUnits(
  assets: SelectedAsset[],
  files: Map<string, string[]> | undefined,
  request: GroupRequest,
  warnings: string[],
): Unit[] {
  return groupAssets(assets, request, warnings).map(({ values, members }) => ({
    input: inputOf(
      members,
      members.flatMap((member) => files?.get(member.location) ?? []),
    ),
    group: values,
  }));
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
