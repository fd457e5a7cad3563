/**
 * The first key, at any depth, that MongoDB's document stores do not all accept as a field name:
 * FerretDB and DocumentDB refuse a dot anywhere and a `$` at the start. Refused before anything
 * is written, the same way on every server.
 */
export function unstorableKey(value: unknown, path = ''): { key: string; path: string } | undefined {
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = unstorableKey(item, `${path}[${index}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (value === null || typeof value !== 'object' || value instanceof Date) return undefined;
  for (const [key, child] of Object.entries(value)) {
    const childPath = path ? `${path}.${key}` : key;
    if (key.includes('.') || key.startsWith('$')) return { key, path: path || '(top level)' };
    const found = unstorableKey(child, childPath);
    if (found) return found;
  }
  return undefined;
}
