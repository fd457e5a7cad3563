import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ErrorType, nonRetryable } from '../errors';
import { redactRepositoryUrl } from '../redact';
import type { AnalysisSpec, CodeProvenance } from '../types';
import { commandEnv } from './command-env';
import { runInImage } from './container-image';
import type { ContainerRuntime, ContainerSpec } from './container-options';
import { projectRoot } from './paths';

const run = promisify(execFile);

/** Short-lived, so a worker notices edits to a command's script without asking git on every task. */
const PROVENANCE_TTL_MS = 10_000;
const provenanceCache = new Map<string, { at: number; value: Promise<CodeProvenance> }>();

/**
 * What git reads code provenance with: no hooks and no file-system monitor (either runs a program
 * that the repository's own config names), no system or user config, and an environment holding
 * only the search path, so that looking at a checkout never runs what the checkout asks for.
 */
const GIT_OPTIONS = ['-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false'];

export function gitEnv(parent: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return {
    ...(parent.PATH ? { PATH: parent.PATH } : {}),
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
  };
}

async function git(dir: string, args: string[]): Promise<string | undefined> {
  try {
    const { stdout } = await run('git', [...GIT_OPTIONS, ...args], {
      cwd: dir,
      env: gitEnv(),
      timeout: 30_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return stdout.trim();
  } catch {
    return undefined;
  }
}

/** Credentials in `https://user:token@host/...?access_token=...` must never reach a record. */
export function stripCredentials(url: string): string {
  return redactRepositoryUrl(url);
}

async function readProvenance(dir: string): Promise<CodeProvenance> {
  const topLevel = await git(dir, ['rev-parse', '--show-toplevel']);
  if (!topLevel) return {};
  const remotes = (await git(dir, ['remote']))?.split('\n').filter(Boolean) ?? [];
  const remote = remotes.includes('origin') ? 'origin' : remotes[0];
  const remoteUrl = remote ? await git(dir, ['remote', 'get-url', remote]) : undefined;
  const commit = await git(dir, ['rev-parse', 'HEAD']);
  const status = await git(dir, ['status', '--porcelain']);
  return {
    repository: remoteUrl ? stripCredentials(remoteUrl) : topLevel,
    commit,
    dirty: status === undefined ? undefined : status.length > 0,
  };
}

/** Repository, commit and dirty flag of the code in `dir`; all undefined outside a git repository. */
export function codeProvenance(dir: string, options: { fresh?: boolean } = {}): Promise<CodeProvenance> {
  const key = resolve(dir);
  const cached = provenanceCache.get(key);
  if (!options.fresh && cached && Date.now() - cached.at < PROVENANCE_TTL_MS) return cached.value;
  const value = readProvenance(key);
  provenanceCache.set(key, { at: Date.now(), value });
  return value;
}

function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}

/**
 * Where an analysis's code lives: the registry folder for TypeScript analyses; for a command, the
 * folder of its script (a path-like program or the first argument naming a file), else the root.
 */
export function codeDirOf(spec: AnalysisSpec, registryDir: string, commandRoot: string): string {
  if (!spec.command?.length) return registryDir;
  const [program = '', ...args] = spec.command;
  const candidates = [...(program.includes('/') ? [program] : []), ...args];
  for (const arg of candidates) {
    const absolute = resolve(commandRoot, arg);
    if (isFile(absolute)) return dirname(absolute);
  }
  return commandRoot;
}

export function workerHost(): string {
  return hostname();
}

export const NOT_INSTALLED = 'not installed';
export const UNKNOWN_VERSION = 'unknown';

const versionCache = new Map<string, Promise<Record<string, string>>>();

function cached(
  key: string,
  compute: () => Promise<Record<string, string>>,
): Promise<Record<string, string>> {
  let value = versionCache.get(key);
  if (!value) {
    value = compute();
    // A failed lookup (e.g. interpreter missing) is retried next time rather than remembered.
    value.catch(() => versionCache.delete(key));
    versionCache.set(key, value);
  }
  return value;
}

/** `python`, `python3`, `/usr/bin/python3.11`, `.venv/bin/python`... */
export function isPythonProgram(program: string): boolean {
  return /^python(\d+(\.\d+)*)?(\.exe)?$/i.test(basename(program));
}

const NPM_NAME = /^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i;

function npmVersion(name: string, root: string): string {
  if (!NPM_NAME.test(name)) return NOT_INSTALLED;
  const requireFromRoot = createRequire(join(root, 'package.json'));
  let manifest: string | undefined;
  try {
    manifest = requireFromRoot.resolve(`${name}/package.json`);
  } catch {
    // Packages whose `exports` hide package.json: find the folder the way Node would.
    manifest = (requireFromRoot.resolve.paths(name) ?? [])
      .map((modules) => join(modules, name, 'package.json'))
      .find((path) => existsSync(path));
  }
  if (!manifest) return NOT_INSTALLED;
  const version = (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: unknown }).version;
  return typeof version === 'string' ? version : UNKNOWN_VERSION;
}

// One interpreter call answers for all libraries; names arrive as argv, never inside the code.
const PYTHON_VERSIONS = [
  'import json, sys',
  'from importlib import metadata',
  'def version(name):',
  '    try:',
  '        return metadata.version(name)',
  '    except metadata.PackageNotFoundError:',
  `        return ${JSON.stringify(NOT_INSTALLED)}`,
  'print(json.dumps({name: version(name) for name in sys.argv[1:]}))',
].join('\n');

async function pythonVersions(
  interpreter: string,
  libraries: string[],
  commandRoot: string,
): Promise<Record<string, string>> {
  try {
    const { stdout } = await run(interpreter, ['-c', PYTHON_VERSIONS, ...libraries], {
      cwd: commandRoot,
      env: commandEnv([]),
      timeout: 60_000,
    });
    return JSON.parse(stdout) as Record<string, string>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw nonRetryable(ErrorType.CommandNotFound, `Python interpreter "${interpreter}" not found`);
    }
    throw new Error(`Could not ask ${interpreter} for library versions: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** The same question asked of the image's interpreter, in a container of its own. */
async function imagePythonVersions(
  runtime: ContainerRuntime,
  image: string,
  interpreter: string,
  libraries: string[],
): Promise<Record<string, string>> {
  try {
    return JSON.parse(
      await runInImage(runtime, image, [interpreter, '-c', PYTHON_VERSIONS, ...libraries]),
    ) as Record<string, string>;
  } catch (err) {
    // An image failure (missing, unpullable) is already the failure to report.
    if ((err as { type?: string }).type !== undefined) throw err;
    throw new Error(
      `Could not ask ${interpreter} in ${image} for library versions: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

/** What a registered command analysis runs: its program, and the image it runs in. */
export interface RegisteredCommand {
  command: string[];
  container?: ContainerSpec;
}

/**
 * Installed versions of `analysis_libraries`, from the environment the analysis runs in: npm
 * packages of this project for TypeScript analyses, the interpreter's packages for Python commands
 * (in the image, for a command that runs in one: a program there that is not Python is taken to be
 * started by the image's `python3`), "unknown" for programs we cannot ask. `registered` is the
 * worker's own command for a spec that names none.
 */
export function libraryVersions(
  spec: AnalysisSpec,
  commandRoot: string,
  registered?: RegisteredCommand,
  containerRuntime: ContainerRuntime = 'podman',
): Promise<Record<string, string>> {
  const libraries = [...new Set(spec.analysis_libraries)].sort();
  if (libraries.length === 0) return Promise.resolve({});
  const own = spec.command?.length ? undefined : registered;
  const program = spec.command?.[0] ?? own?.command[0];
  const container = own?.container;
  if (container) {
    const runtime = container.runtime ?? containerRuntime;
    const interpreter = program && isPythonProgram(program) ? program : 'python3';
    return cached(`image\0${runtime}\0${container.image}\0${interpreter}\0${libraries.join('\0')}`, () =>
      imagePythonVersions(runtime, container.image, interpreter, libraries).catch((err: unknown) => {
        if (interpreter === program) throw err;
        return Object.fromEntries(libraries.map((name) => [name, UNKNOWN_VERSION]));
      }),
    );
  }
  if (!program) {
    const root = projectRoot();
    return cached(`npm\0${root}\0${libraries.join('\0')}`, async () =>
      Object.fromEntries(libraries.map((name) => [name, npmVersion(name, root)])),
    );
  }
  if (isPythonProgram(program)) {
    const interpreter = program.includes('/') ? resolve(commandRoot, program) : program;
    return cached(`python\0${interpreter}\0${libraries.join('\0')}`, () =>
      pythonVersions(interpreter, libraries, commandRoot),
    );
  }
  return Promise.resolve(Object.fromEntries(libraries.map((name) => [name, UNKNOWN_VERSION])));
}
