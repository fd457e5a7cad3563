import { ObjectId } from 'mongodb';

/** Reads a dotted path (`subject.subject_id`) of a document the way a MongoDB filter would. */
export function valueAt(doc: unknown, path: string): unknown {
  let value: unknown = doc;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** An `_id` (string, ObjectId, number, ...) as the string a task and a CSV carry. */
export function idString(id: unknown): string {
  if (id instanceof ObjectId) return id.toHexString();
  if (typeof id === 'string') return id;
  return JSON.stringify(id) ?? String(id);
}

export const isObjectIdHex = (value: string): boolean => /^[0-9a-fA-F]{24}$/.test(value);
