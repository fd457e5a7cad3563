import { existsSync, readFileSync, statSync } from 'node:fs';
import { BSON } from 'mongodb';
import { InputError } from '../errors';
import { jsonTextProblem } from './json-limits';
import { describeJsonError } from './json-position';

/**
 * Operators that run JavaScript on the database server. MongoDB, DocumentDB and FerretDB treat
 * them differently (or not at all), and they would let a filter execute arbitrary code, so they
 * are refused here with one clear message whatever the server would have said.
 */
const FORBIDDEN_OPERATORS = new Set(['$where', '$function', '$accumulator']);

/** MongoDB, DocumentDB and FerretDB take commands of at most 16 MiB; the filter is most of one. */
const FILTER_BYTES_MAX = 15 * 1024 * 1024;

/** A `--query` value: a JSON filter, or the path of a file holding one. */
export function parseQuery(textOrPath: string): Record<string, unknown> {
  const { value, source } = readJson(textOrPath);
  return checkQuery(value, `--query ${source}`);
}

/**
 * A filter as the database will receive it, checked: from `--query`, and again on the worker for
 * a request read back from the database, which anyone who can write there could have edited.
 */
export function checkQuery(value: unknown, source: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InputError(`${source} must be a JSON object (a MongoDB filter), got ${describe(value)}`);
  }
  const found = findForbidden(value, '');
  if (found) {
    throw new InputError(
      `${source} uses ${found.operator} at ${found.path}: server-side JavaScript operators ($where, $function, $accumulator) are not allowed`,
    );
  }
  const bytes = BSON.calculateObjectSize(value as Record<string, unknown>);
  if (bytes > FILTER_BYTES_MAX) {
    throw new InputError(
      `${source} is ${(bytes / 2 ** 20).toFixed(1)} MiB as BSON, more than the ${FILTER_BYTES_MAX / 2 ** 20} MiB of a filter the database takes in one command: select a long list of ids with --use_data_assets 1 --asset_csv FILE`,
    );
  }
  return value as Record<string, unknown>;
}

function readJson(textOrPath: string): { value: unknown; source: string } {
  let inlineError: string;
  try {
    return checked(JSON.parse(textOrPath), textOrPath, 'filter');
  } catch (err) {
    if (err instanceof InputError) throw err;
    inlineError = describeJsonError(textOrPath, err);
  }
  if (existsSync(textOrPath) && statSync(textOrPath).isFile()) {
    const source = `file ${textOrPath}`;
    const text = readFileSync(textOrPath, 'utf8');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new InputError(`--query ${source} is not valid JSON: ${describeJsonError(text, err)}`);
    }
    return checked(value, text, source);
  }
  throw new InputError(
    `--query is neither valid JSON nor an existing file: ${inlineError} (value: ${truncate(textOrPath)})`,
  );
}

/** A parsed filter whose text holds no integer that parsing rounded and nests no deeper than the walks below take. */
function checked(value: unknown, text: string, source: string): { value: unknown; source: string } {
  const problem = jsonTextProblem(text);
  if (problem) throw new InputError(`--query ${source}: ${problem}`);
  return { value, source };
}

function findForbidden(value: unknown, path: string): { operator: string; path: string } | undefined {
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = findForbidden(item, `${path}[${index}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  for (const [key, child] of Object.entries(value)) {
    const childPath = path ? `${path}.${key}` : key;
    if (FORBIDDEN_OPERATORS.has(key)) return { operator: key, path: childPath };
    const found = findForbidden(child, childPath);
    if (found) return found;
  }
  return undefined;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function truncate(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max)}...` : text;
}
