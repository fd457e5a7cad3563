import { canonicalJson } from '../identity';
import type { DispatchRequest } from '../types';
import { plainValue, valueAt } from './document';
import type { SelectedAsset } from './select';

export type GroupRequest = Pick<DispatchRequest, 'group_by' | 'unwind_list_fields' | 'drop_null_groups'>;

export interface AssetGroup {
  /** Each `--group_by` field's value, as plain JSON (a date as its ISO string). */
  values: Record<string, unknown>;
  /** Members in the order given, each once. */
  members: SelectedAsset[];
}

/**
 * The `--group_by` groups of these assets, ordered by their values. With `--unwind_list_fields`
 * each value of a list is a membership of its own (an asset listing two subjects is in both
 * subjects' groups); a membership missing a value is left out and counted (`drop_null_groups`), or
 * grouped under null. A request of an earlier version, without the setting, grouped it under null.
 */
export function groupAssets(
  assets: SelectedAsset[],
  request: GroupRequest,
  warnings: string[],
): AssetGroup[] {
  const fields = request.group_by;
  const drop = request.drop_null_groups === true;
  const groups = new Map<string, AssetGroup>();
  const missing = new Map<string, number>();
  let leftOut = 0;
  for (const asset of assets) {
    let kept = 0;
    const lacking = new Set<string>();
    for (const membership of unwound(asset.doc, request.unwind_list_fields ?? [])) {
      const values = Object.fromEntries(
        fields.map((field) => [field, plainValue(valueAt(membership, field))]),
      );
      const absent = fields.filter((field) => values[field] === null);
      absent.forEach((field) => lacking.add(field));
      if (drop && absent.length) continue;
      kept++;
      const key = canonicalJson(fields.map((field) => values[field]));
      const group = groups.get(key) ?? { values, members: [] };
      if (group.members[group.members.length - 1] !== asset) group.members.push(asset);
      groups.set(key, group);
    }
    for (const field of lacking) missing.set(field, (missing.get(field) ?? 0) + 1);
    if (kept === 0) leftOut++;
  }
  if (drop && leftOut) {
    warnings.push(
      `${leftOut} assets have no value for ${fields.join(' or ')}: left out of the groups (--drop_null_groups 0 groups them under null)`,
    );
  }
  if (!drop) {
    for (const [field, count] of missing)
      warnings.push(`${count} assets have no ${field}; they are grouped together under ${field} = null`);
  }
  return [...groups.entries()].sort(([a], [b]) => compare(a, b)).map(([, group]) => group);
}

/**
 * The document once per combination of its list fields' values, each field in turn holding one
 * value, as MongoDB's `$unwind` after wrapping a single value in a list. An empty or missing list
 * gives one membership without a value rather than none, so that it is counted, not lost.
 */
function unwound(doc: unknown, fields: string[]): unknown[] {
  let docs = [doc];
  for (const field of fields) {
    docs = docs.flatMap((one) => {
      const value = valueAt(one, field);
      const values = Array.isArray(value) ? value : [value];
      return (values.length ? values : [undefined]).map((item) => withValue(one, field.split('.'), item));
    });
  }
  return docs;
}

/** A copy of `doc` with the value at `path` replaced, copying only the objects on the path. */
function withValue(doc: unknown, path: string[], value: unknown): unknown {
  const [key, ...rest] = path;
  if (key === undefined) return value;
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return doc;
  const child = Object.hasOwn(doc, key) ? (doc as Record<string, unknown>)[key] : undefined;
  // defineProperty, not assignment: a field named __proto__ must stay a field.
  const copy = { ...(doc as Record<string, unknown>) };
  Object.defineProperty(copy, key, {
    value: withValue(child, rest, value),
    enumerable: true,
    writable: true,
    configurable: true,
  });
  return copy;
}

/** Code-unit order: locale-independent, so every machine plans the same order. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
