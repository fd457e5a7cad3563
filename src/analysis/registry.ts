import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import type { z } from 'zod';
import { ErrorType, InputError, nonRetryable } from '../errors';
import { formatIssues } from '../zod-issues';
import type { SchemaCheck } from './json-schema';
import { projectRoot } from './paths';
import type { AnalysisDefinition, AnalysisRegistry, CommandAnalysis, RegistryProblem } from './definition';
import { maxConcurrentProblem, poolProblem } from './define';
import { isManifestFile, loadManifest } from './manifest';

// require rather than import(): tsx's CommonJS hooks load TypeScript analyses, and this package is CommonJS.
const loadModule = createRequire(__filename);

/**
 * Analyses written in TypeScript need a loader; the compiled worker has none until one is met, so
 * tsx is registered then, for the analyses folder's modules (and the sources they import) alone.
 */
function ensureTypeScriptLoader(path: string): void {
  if (!path.endsWith('.ts') || loadModule.extensions['.ts']) return;
  loadModule('tsx/cjs');
}

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
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name)
    .sort();
  const byName = new Map<string, { definition: AnalysisDefinition; file: string }>();
  for (const file of files.filter(isAnalysisModuleFile)) {
    const path = join(dir, file);
    let loaded: unknown;
    try {
      ensureTypeScriptLoader(path);
      loaded = loadModule(path);
    } catch (err) {
      // By name: a module loaded through tsx holds its own copy of the error classes.
      const Refusal = (err as Error).name === 'InputError' ? InputError : Error;
      throw new Refusal(`Cannot load analysis module ${path}: ${(err as Error).message}`, { cause: err });
    }
    const definition = defaultExport(loaded);
    if (!isDefinition(definition)) continue;
    const badPool = poolProblem(definition.pool);
    if (badPool) throw new Error(`Analysis "${definition.name}" in ${path}: ${badPool}`);
    const badCap = maxConcurrentProblem(definition.max_concurrent);
    if (badCap) throw new InputError(`Analysis "${definition.name}" in ${path}: ${badCap}`);
    const existing = byName.get(definition.name);
    if (existing) {
      throw new Error(`Analysis "${definition.name}" is defined twice: in ${existing.file} and in ${path}`);
    }
    byName.set(definition.name, { definition, file: path });
  }
  const { commands, problems } = await loadManifests(
    dir,
    files.filter(isManifestFile),
    new Set(byName.keys()),
  );
  return {
    get: (name) => byName.get(name)?.definition,
    command: (name) => commands.get(name),
    names: () => [...byName.keys(), ...commands.keys()].sort(),
    file: (name) => byName.get(name)?.file ?? commands.get(name)?.file,
    problems,
  };
}

/**
 * A bad manifest is left out and reported, not fatal: unlike a module that fails to load, it is
 * data an operator may be editing, and the analyses declared correctly must keep being served.
 */
async function loadManifests(
  dir: string,
  files: string[],
  taken: Set<string>,
): Promise<{ commands: Map<string, CommandAnalysis>; problems: RegistryProblem[] }> {
  const commands = new Map<string, CommandAnalysis>();
  const problems: RegistryProblem[] = [];
  for (const file of files) {
    const path = join(dir, file);
    try {
      const analysis = await loadManifest(path);
      const other = taken.has(analysis.name) ? 'a TypeScript module' : commands.get(analysis.name)?.file;
      if (other) throw new Error(`name: "${analysis.name}" is already defined in ${other}`);
      commands.set(analysis.name, analysis);
    } catch (err) {
      problems.push({ file: path, message: (err as Error).message });
    }
  }
  return { commands, problems };
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

function check(schema: SchemaCheck, value: unknown, type: ErrorType, what: string): unknown {
  const result = schema(value);
  if (result.ok) return result.value;
  throw nonRetryable(type, `${what}: ${result.problems}`);
}

/** The command analysis's parameters with the schema's defaults applied; a bad set fails for good. */
export function validateCommandParameters(
  analysis: CommandAnalysis,
  parameters: unknown,
): Record<string, unknown> {
  return check(
    analysis.parameters,
    parameters,
    ErrorType.InvalidParameters,
    `Invalid parameters for analysis "${analysis.name}"`,
  ) as Record<string, unknown>;
}

/** Checks a program's `outputs.json` against its manifest's schema, naming the field. */
export function validateCommandOutputs(
  analysis: CommandAnalysis,
  outputs: Record<string, unknown>,
): Record<string, unknown> {
  return check(
    analysis.outputs,
    outputs,
    ErrorType.InvalidOutputs,
    `Invalid outputs of analysis "${analysis.name}"`,
  ) as Record<string, unknown>;
}
