import { execFile } from 'node:child_process';
import { arch, cpus, platform, release, totalmem, userInfo } from 'node:os';
import { basename, extname, isAbsolute, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { analysisCode, type MachineFacts, type SoftwareFacts } from '../aind/metadata';
import type { AindCode, AnalysisSpec, CodeProvenance, Task } from '../types';
import { commandEnv } from './command-env';
import { ensureImage, runInImage } from './container-image';
import type { ContainerRuntime, ContainerSpec } from './container-options';
import { codeDirOf, codeProvenance } from './provenance';

const run = promisify(execFile);

/** A remote's URL as is; a local checkout (or a folder outside git) as a `file:` URL. */
export function codeUrl(provenance: CodeProvenance, codeDir: string): string {
  const repository = provenance.repository;
  if (repository && /^[a-z][a-z0-9+.-]*:\/\/|^[^/\s]+@[^/\s]+:/i.test(repository)) return repository;
  return pathToFileURL(repository ?? codeDir).href;
}

/** The language a program is written in, from the interpreter or the script's extension. */
export function languageOf(command: string[]): string {
  const [program = '', ...args] = command;
  const name = basename(program).toLowerCase();
  const script = args.find((arg) => extname(arg) !== '') ?? program;
  const byProgram: Array<[RegExp, string]> = [
    [/^python[0-9.]*$|^uv$/, 'Python'],
    [/^node(js)?$/, 'JavaScript'],
    [/^rscript$/, 'R'],
    [/^julia$/, 'Julia'],
    [/^(ba|z|da)?sh$/, 'Shell'],
    [/^java$/, 'Java'],
  ];
  for (const [pattern, language] of byProgram) if (pattern.test(name)) return language;
  const byExtension: Record<string, string> = {
    '.py': 'Python',
    '.js': 'JavaScript',
    '.mjs': 'JavaScript',
    '.r': 'R',
    '.jl': 'Julia',
    '.sh': 'Shell',
  };
  return byExtension[extname(script).toLowerCase()] ?? 'unknown';
}

/** Interpreters whose `--version` names the language version; asked once per worker and program. */
const VERSIONED = /^(python[0-9.]*|node|julia|rscript)$/i;
const versions = new Map<string, Promise<string | undefined>>();

function versionOf(program: string): Promise<string | undefined> {
  if (!VERSIONED.test(basename(program))) return Promise.resolve(undefined);
  let version = versions.get(program);
  if (!version) {
    version = run(program, ['--version'], { env: commandEnv([]), timeout: 10_000 })
      .then(({ stdout, stderr }) => (stdout || stderr).trim().split('\n')[0] || undefined)
      .catch(() => undefined);
    versions.set(program, version);
  }
  return version;
}

/** The same question asked inside an image: the interpreter there is the one that runs. */
function versionInImage(
  runtime: ContainerRuntime,
  image: string,
  program: string,
): Promise<string | undefined> {
  if (!VERSIONED.test(basename(program))) return Promise.resolve(undefined);
  const key = `${runtime}\0${image}\0${program}`;
  let version = versions.get(key);
  if (!version) {
    version = runInImage(runtime, image, [program, '--version'])
      .then((stdout) => stdout.trim().split('\n')[0] || undefined)
      .catch(() => undefined);
    versions.set(key, version);
  }
  return version;
}

/** What ran for a spec: its code's URL, its script, and its language and version. */
export async function softwareFacts(options: {
  spec: AnalysisSpec;
  provenance: CodeProvenance;
  codeDir: string;
  /** The module of a TypeScript analysis. */
  moduleFile?: string;
  /**
   * Whether the program may be asked its `--version`: a worker asks only programs its own manifests
   * name, never one a dispatch spec names (false there), since asking runs it.
   */
  askVersion?: boolean;
  /** The image a registered command runs in: its digest is looked up (the image pulled if missing). */
  container?: ContainerSpec;
  containerRuntime?: ContainerRuntime;
}): Promise<SoftwareFacts> {
  const { spec, provenance, codeDir } = options;
  const url = codeUrl(provenance, codeDir);
  if (!spec.command?.length) {
    const file = options.moduleFile;
    return {
      url,
      run_script: file ? scriptPath(file, provenance.repository, codeDir) : spec.analysis_name,
      language: 'TypeScript',
      language_version: `Node.js ${process.version}`,
    };
  }
  const { container } = options;
  if (container) {
    const runtime = container.runtime ?? options.containerRuntime ?? 'podman';
    const { digest } = await ensureImage(runtime, container.image);
    const version = await versionInImage(runtime, container.image, spec.command[0] ?? '');
    return {
      url,
      run_script: spec.command.join(' '),
      language: languageOf(spec.command),
      ...(version ? { language_version: version } : {}),
      container: { image: container.image, digest },
    };
  }
  const version = options.askVersion === false ? undefined : await versionOf(spec.command[0] ?? '');
  return {
    url,
    run_script: spec.command.join(' '),
    language: languageOf(spec.command),
    ...(version ? { language_version: version } : {}),
  };
}

/** A module's path inside its checkout, when it has one, so the record reads the same anywhere. */
function scriptPath(file: string, repository: string | undefined, codeDir: string): string {
  const root = repository && isAbsolute(repository) ? repository : codeDir;
  const inside = relative(root, file);
  return inside && !inside.startsWith('..') && !isAbsolute(inside) ? inside : file;
}

let machine: MachineFacts | undefined;

/** The worker's machine, read once. */
export function machineFacts(): MachineFacts {
  machine ??= {
    os: `${platform()} ${release()}`,
    architecture: arch(),
    ...(cpus()[0]?.model ? { cpu: cpus()[0]!.model.trim() } : {}),
    cpu_cores: cpus().length,
    system_memory_gib: Math.round((totalmem() / 2 ** 30) * 10) / 10,
  };
  return machine;
}

/** The worker's login name, or undefined where the system has none for its user. */
export function workerUser(): string | undefined {
  try {
    return userInfo().username || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The `Code` of a task's analysis as seen from this checkout, for task files written where the
 * dispatch is started (`--output_dir`); one look at the code per analysis.
 */
export function codeDescriber(registryDir: string, commandRoot: string): (task: Task) => Promise<AindCode> {
  const known = new Map<string, Promise<{ software: SoftwareFacts; commit?: string }>>();
  return async (task) => {
    const key = JSON.stringify([task.analysis.analysis_name, task.analysis.command ?? null]);
    let facts = known.get(key);
    if (!facts) {
      const codeDir = codeDirOf(task.analysis, registryDir, commandRoot);
      facts = codeProvenance(codeDir).then(async (provenance) => ({
        software: await softwareFacts({ spec: task.analysis, provenance, codeDir }),
        commit: provenance.commit,
      }));
      known.set(key, facts);
    }
    const { software, commit } = await facts;
    return analysisCode(task, software, commit);
  };
}
