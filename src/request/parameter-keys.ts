import { InputError } from '../errors';
import type { AnalysisSpec } from '../types';

/**
 * Parameters are kept in the records as written, and FerretDB and DocumentDB refuse a field name
 * holding a dot or starting with `$` at any depth: such a key would fail the record only after the
 * analysis ran, so it is refused before anything runs. Every other key, `__proto__` and
 * `constructor` included, is data like any other.
 */
export function checkParameterKeys(
  specs: AnalysisSpec[],
  parameters: {
    fixed_parameters: Record<string, unknown>;
    distributed_parameters: Record<string, unknown>[];
  },
): void {
  const sources: Array<[string, unknown]> = [
    ...specs.map((spec, i): [string, unknown] => [
      `--analysis_spec entry ${i} analysis_parameters`,
      spec.analysis_parameters,
    ]),
    ['fixed_parameters', parameters.fixed_parameters],
    ...parameters.distributed_parameters.map((entry, i): [string, unknown] => [
      `distributed_parameters[${i}]`,
      entry,
    ]),
  ];
  for (const [source, value] of sources) {
    const bad = badKey(value, '');
    if (bad) {
      throw new InputError(
        `${source}: the key ${JSON.stringify(bad.key)} at ${bad.path} cannot be stored in the records (no "." in a key, none starting with "$"); rename it`,
      );
    }
  }
}

function badKey(value: unknown, path: string): { key: string; path: string } | undefined {
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = badKey(item, `${path}[${index}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  for (const key of Object.keys(value)) {
    const here = path ? `${path}.${key}` : key;
    if (key.includes('.') || key.startsWith('$')) return { key, path: here };
    const found = badKey((value as Record<string, unknown>)[key], here);
    if (found) return found;
  }
  return undefined;
}
