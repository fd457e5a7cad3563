import { ObjectId } from 'mongodb';

/**
 * Reads a dotted path (`subject.subject_id`) of a document. Only the document's own fields count:
 * a path such as `constructor` or `__proto__` is a field name like any other, never something
 * every JavaScript object inherits. Through a list of documents the path reads each item's value,
 * as a MongoDB aggregation does (`subjects.id` of `[{id: 1}, {id: 2}]` is `[1, 2]`); a numeric
 * segment picks a list item (`external_links.Code Ocean.0`), as a MongoDB filter does.
 */
export function valueAt(doc: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>(step, doc);
}

function step(value: unknown, key: string): unknown {
  if (Array.isArray(value)) {
    if (/^\d+$/.test(key)) return value[Number(key)];
    return value.map((item) => step(item, key)).filter((item) => item !== undefined);
  }
  if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined;
  return (value as Record<string, unknown>)[key];
}

/** Dates and ObjectIds as their JSON strings, missing as null: tasks are plain data, compared by JSON. */
export function plainValue(value: unknown): unknown {
  return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as unknown);
}

/** An `_id` (string, ObjectId, number, ...) as the string a task and a CSV carry. */
export function idString(id: unknown): string {
  if (id instanceof ObjectId) return id.toHexString();
  if (typeof id === 'string') return id;
  return JSON.stringify(id) ?? String(id);
}

export const isObjectIdHex = (value: string): boolean => /^[0-9a-fA-F]{24}$/.test(value);
