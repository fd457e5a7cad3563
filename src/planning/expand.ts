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
export interface Unit {
  input: TaskInput;
  group?: Record<string, unknown>;
}

/** A selection ready to expand: its units in plan order, and the analyses each one runs. */
export interface PreparedExpansion {
  /** Iterable more than once, each time in the same order. */
  units: Iterable<Unit>;
  specs: Array<{
    analysis: AnalysisSpec & { s3_output_bucket: string };
    libraries: Record<string, string>;
    sets: ReturnType<typeof parameterSets>;
  }>;
  assets_without_files: number;
  warnings: string[];
}

/**
 * Inputs x specs x parameter sets, in a stable order (assets by id, files by key, groups by their
 * values) so that planning the same request twice gives the same tasks in the same order.
 */
export function expandTasks(input: ExpandInput): Expansion {
  const prepared = prepareExpansion(input);
  const tasks = [...expandedTasks(prepared, identifyTasks(prepared))];
  return { tasks, assets_without_files: prepared.assets_without_files, warnings: prepared.warnings };
}

/** The units and analyses of a plan, checked, before any task is made. */
export function prepareExpansion({ assets, files, request, libraries }: ExpandInput): PreparedExpansion {
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
  return { units, specs, assets_without_files: sorted.length - withFiles.length, warnings };
}

/**
 * The identity hash of every task of the plan, in plan order, with null for each duplicate left
 * out: what a second pass (expandedTasks) needs to make the same tasks again without hashing or
 * holding them. Hashes only, so a plan of 100,000 tasks keeps a few MiB here.
 */
export function identifyTasks(prepared: PreparedExpansion): Array<string | null> {
  const hashes: Array<string | null> = [];
  // The group of the first task of each identity, as canonical JSON; without groups, just the identities.
  const firstGroup = new Map<string, string>();
  const seen = new Set<string>();
  let duplicates = 0;
  for (const unit of prepared.units) {
    const groupKey = unit.group ? canonicalJson(unit.group) : '';
    for (const spec of prepared.specs) {
      for (const set of spec.sets) {
        let hash = identityHash(identityOf(unit, spec, set));
        // Another group reading the same input (an asset unwound into two groups) is a task of
        // its own, told apart by its values; the first keeps the plain identity it always had.
        if (unit.group) {
          const first = firstGroup.get(hash);
          if (first === undefined) firstGroup.set(hash, groupKey);
          else if (first !== groupKey) hash = identityHash(identityOf(unit, spec, set), unit.group);
        }
        // Identical specs or parameter entries would plan one task twice, and run it twice.
        if (seen.has(hash)) {
          duplicates += 1;
          hashes.push(null);
          continue;
        }
        seen.add(hash);
        hashes.push(hash);
      }
    }
  }
  if (duplicates)
    prepared.warnings.push(
      `${duplicates} duplicate tasks (same analysis, parameters, input and group) planned once`,
    );
  return hashes;
}

/** The tasks of the plan, one at a time, named by the hashes identifyTasks gave for the same expansion. */
export function* expandedTasks(
  prepared: PreparedExpansion,
  hashes: ReadonlyArray<string | null>,
): Generator<Task> {
  let index = 0;
  for (const unit of prepared.units) {
    for (const spec of prepared.specs) {
      for (const set of spec.sets) {
        const hash = hashes[index++];
        if (hash === undefined) throw new Error('the expansion changed between its two passes');
        if (hash === null) continue;
        yield {
          hash,
          ...identityOf(unit, spec, set),
          ...(unit.group ? { group: unit.group } : {}),
          ...(set.distributed ? { distributed_parameters: set.distributed } : {}),
          location: s3Url(spec.analysis.s3_output_bucket, hash),
        };
      }
    }
  }
}

function identityOf(
  unit: Unit,
  spec: PreparedExpansion['specs'][number],
  set: PreparedExpansion['specs'][number]['sets'][number],
) {
  return {
    analysis: spec.analysis,
    parameters: set.parameters,
    input: unit.input,
    libraries: spec.libraries,
  };
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

/** An asset's units, made as they are reached: a plan of 100,000 assets never holds their inputs at once. */
function assetUnits(
  assets: SelectedAsset[],
  files: Map<string, string[]> | undefined,
  splitFiles: boolean,
): Iterable<Unit> {
  return {
    *[Symbol.iterator]() {
      for (const asset of assets) {
        const assetFiles = files?.get(asset.location) ?? [];
        if (files && splitFiles) for (const file of assetFiles) yield { input: inputOf([asset], [file]) };
        else yield { input: inputOf([asset], assetFiles) };
      }
    },
  };
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
