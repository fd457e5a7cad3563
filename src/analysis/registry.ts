import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import type { z } from 'zod';
import { ErrorType, nonRetryable } from '../errors';
import { formatIssues } from '../zod-issues';
import { projectRoot } from './paths';
import type { AnalysisDefinition, AnalysisRegistry } from './definition';

// require rather than import(): the CLI registers tsx's CommonJS hooks only, and this package is CommonJS.
const loadModule = createRequire(__filename);

/** The analyses folder: relative to the working directory when it exists there, else to the project. */
export function resolveAnalysesDir(configured: string): string {
  if (isAbsolute(configured)) return configured;
  const fromCwd = resolve(process.cwd(), configured);
  return existsSync(fromCwd) ? fromCwd : resolve(projectRoot(), configured);
}

function isAnalysisModuleFile(name: string): boolean {
  return /\.(ts|js)$/.test(name) && !name.endsWith('.d.ts') && !name.startsWith('_');
}

function isDefinition(value: unknown): value is AnalysisDefinition {
  if (value === null || typeof value !== 'object') return false;
  const candidate = value as Record<string, unknown>;
  const isSchema = (schema: unknown) =>
    schema !== null &&
    typeof schema === 'object' &&
    typeof (schema as { safeParse?: unknown }).safeParse === 'function';
  return (
    typeof candidate.name === 'string' &&
    typeof candidate.run === 'function' &&
    isSchema(candidate.parameters) &&
    isSchema(candidate.outputs)
  );
}

/** The default export, whether the module was compiled ESM-to-CJS (`.default`) or wrote `module.exports`. */
function defaultExport(moduleValue: unknown): unknown {
  let value = moduleValue;
  for (
    let depth = 0;
    depth < 2 && value !== null && typeof value === 'object' && 'default' in value;
    depth++
  ) {
    value = (value as { default: unknown }).default;
  }
  return value;
}

/**
 * Loads every analysis module of a folder (not recursive). Modules whose default export is not a
 * definition are helpers and are skipped; a module that fails to load stops the worker, because a
 * silently missing analysis would only show up later as "unknown analysis" on every task.
 */
export async function loadRegistry(folder: string): Promise<AnalysisRegistry> {
  // require() would read a relative path as a package name.
  const dir = resolve(folder);
  const files = (await readdir(dir, { withFileTypes: true }))
    .filter((entry) => entry.isFile() && isAnalysisModuleFile(entry.name))
    .map((entry) => entry.name)
    .sort();
  const byName = new Map<string, { definition: AnalysisDefinition; file: string }>();
  for (const file of files) {
    const path = join(dir, file);
    let loaded: unknown;
    try {
      loaded = loadModule(path);
    } catch (err) {
      throw new Error(`Cannot load analysis module ${path}: ${(err as Error).message}`, { cause: err });
    }
    const definition = defaultExport(loaded);
    if (!isDefinition(definition)) continue;
    const existing = byName.get(definition.name);
    if (existing) {
      throw new Error(`Analysis "${definition.name}" is defined twice: in ${existing.file} and in ${path}`);
    }
    byName.set(definition.name, { definition, file: path });
  }
  return {
    get: (name) => byName.get(name)?.definition,
    names: () => [...byName.keys()].sort(),
    file: (name) => byName.get(name)?.file,
  };
}

function validate<T>(schema: z.ZodType<T>, value: unknown, type: ErrorType, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw nonRetryable(type, `${what}: ${formatIssues(result.error.issues)}`);
}

/** Parses merged parameters (defaults applied); a bad set fails for good, naming the field. */
export function validateParameters<P>(definition: AnalysisDefinition<P>, parameters: unknown): P {
  return validate(
    definition.parameters,
    parameters,
    ErrorType.InvalidParameters,
    `Invalid parameters for analysis "${definition.name}"`,
  );
}

/** Checks what `run` returned against the outputs schema, so records never hold a malformed shape. */
export function validateOutputs<O extends Record<string, unknown>>(
  definition: AnalysisDefinition<unknown, O>,
  outputs: unknown,
): O {
  return validate(
    definition.outputs,
    outputs,
    ErrorType.InvalidOutputs,
    `Invalid outputs of analysis "${definition.name}"`,
  );
}
