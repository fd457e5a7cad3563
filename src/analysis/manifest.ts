import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { downloadInputs, temporalDuration } from '../request/spec';
import { POOL_NAME, POOL_NAME_RULE } from '../worker-pools';
import { formatIssues } from '../zod-issues';
import { resolveCommandArg } from './command-env';
import { MAX_CONCURRENT_RULE } from './define';
import { containerFields, parseMemory, type ContainerSpec } from './container-options';
import type { CommandAnalysis } from './definition';
import { compileSchema, type SchemaCheck } from './json-schema';

/** `lick_rate.analysis.json`: a command analysis declared beside the TypeScript modules. */
export function isManifestFile(name: string): boolean {
  return name.endsWith('.analysis.json') && !name.startsWith('_');
}

const schemaObject = z.record(z.string(), z.unknown(), { error: 'must be a JSON Schema object' });

/** Strict, so that a misspelt field is reported instead of silently ignored. */
const manifestFile = z.strictObject(
  {
    name: z.string({ error: 'must be a string' }).trim().min(1, 'must not be empty'),
    description: z.string().optional(),
    command: z
      .array(z.string().min(1, 'must not hold empty arguments'), { error: 'must be a list of strings' })
      .min(1, 'must not be empty'),
    parameters: schemaObject,
    outputs: schemaObject,
    download_inputs: downloadInputs.optional(),
    timeout: temporalDuration.optional(),
    max_attempts: z.int().positive().optional(),
    pool: z.string({ error: 'must be a string' }).regex(POOL_NAME, POOL_NAME_RULE).optional(),
    max_concurrent: z.int({ error: MAX_CONCURRENT_RULE }).min(1, MAX_CONCURRENT_RULE).optional(),
    ...containerFields,
  },
  { error: (issue) => (issue.code === 'invalid_type' ? 'must be a JSON object' : undefined) },
);

/**
 * Reads and checks one manifest. Relative paths of its command are taken from the manifest's own
 * folder, so an analysis and its script move together. Throws a message naming the field.
 */
export async function loadManifest(path: string): Promise<CommandAnalysis> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new Error(`not a readable JSON file: ${(err as Error).message}`, { cause: err });
  }
  const parsed = manifestFile.safeParse(raw);
  if (!parsed.success) throw new Error(formatIssues(parsed.error.issues));
  const manifest = parsed.data;
  const schema = (field: 'parameters' | 'outputs') => {
    try {
      return compileSchema(manifest[field]);
    } catch (err) {
      throw new Error(`${field}: not a valid JSON Schema: ${(err as Error).message}`, { cause: err });
    }
  };
  const dir = dirname(path);
  const container = containerSpec(manifest, dir);
  const [program = '', ...args] = manifest.command;
  const parameters = schema('parameters');
  return {
    name: manifest.name,
    // Inside an image, paths are the image's: nothing is resolved against this folder.
    command: container
      ? manifest.command
      : [
          program.includes('/') ? resolveCommandArg(program, dir) : program,
          ...args.map((arg) => resolveCommandArg(arg, dir)),
        ],
    parameters: namesAnalysis(manifest.parameters) ? withAnalysisName(parameters, manifest.name) : parameters,
    outputs: schema('outputs'),
    ...(manifest.download_inputs !== undefined ? { download_inputs: manifest.download_inputs } : {}),
    ...(manifest.timeout !== undefined ? { timeout: manifest.timeout } : {}),
    ...(manifest.max_attempts !== undefined ? { max_attempts: manifest.max_attempts } : {}),
    ...(manifest.pool !== undefined ? { pool: manifest.pool } : {}),
    ...(manifest.max_concurrent !== undefined ? { max_concurrent: manifest.max_concurrent } : {}),
    ...(container ? { container } : {}),
    file: path,
  };
}

function namesAnalysis(schema: Record<string, unknown>): boolean {
  const properties = schema.properties;
  return properties !== null && typeof properties === 'object' && Object.hasOwn(properties, 'analysis_name');
}

/**
 * A schema declaring `analysis_name` (a model written for the institute's wrapper template, whose
 * records keep the name among their parameters) checks the parameters with the analysis's name
 * there unless they set one, at plan time and on the worker alike, and the program receives it.
 */
function withAnalysisName(check: SchemaCheck, name: string): SchemaCheck {
  return (value) => {
    const named =
      value !== null &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      !Object.hasOwn(value, 'analysis_name')
        ? { ...value, analysis_name: name }
        : value;
    return check(named);
  };
}

const CONTAINER_ONLY = ['runtime', 'cpus', 'memory', 'gpus', 'network', 'code'] as const;

/** The container settings of a manifest that names an image; settings without one are a mistake. */
function containerSpec(manifest: z.infer<typeof manifestFile>, dir: string): ContainerSpec | undefined {
  if (manifest.image === undefined) {
    const stray = CONTAINER_ONLY.find((field) => manifest[field] !== undefined);
    if (stray) throw new Error(`${stray}: applies only to an analysis that names an "image"`);
    return undefined;
  }
  const code = manifest.code === undefined ? undefined : resolve(dir, manifest.code);
  if (code !== undefined && !statSync(code, { throwIfNoEntry: false })?.isDirectory())
    throw new Error(`code: no folder at ${code}`);
  return {
    image: manifest.image,
    network: manifest.network ?? false,
    ...(manifest.runtime ? { runtime: manifest.runtime } : {}),
    ...(manifest.cpus !== undefined ? { cpus: manifest.cpus } : {}),
    ...(manifest.memory !== undefined ? { memory_bytes: parseMemory(manifest.memory) } : {}),
    ...(manifest.gpus !== undefined ? { gpus: manifest.gpus } : {}),
    ...(code !== undefined ? { code } : {}),
  };
}
