import { InputError } from '../errors';
import type { AnalysisSpec } from '../types';
import type { ContainerRuntime } from './container-options';
import type { AnalysisRegistry } from './definition';
import { codeDirOf, codeProvenance, libraryVersions } from './provenance';
import { specCommandRefusal } from './spec-command';

/** How the planner and the duplicate check learn the code and libraries a task would run with. */
export interface ProvenanceLookups {
  libraries: (spec: AnalysisSpec) => Promise<Record<string, string>>;
  codeCommit: (spec: AnalysisSpec) => Promise<string | undefined>;
}

/**
 * The lookups over this checkout. Without `specCommands` (a worker that refuses a dispatch spec's
 * command) nothing is run for a spec that names one: git would look at a folder the spec chose,
 * and an interpreter the spec names would run.
 */
export function provenanceLookups(
  registryDir: string,
  commandRoot: string,
  {
    specCommands = true,
    registry,
    containerRuntime,
  }: {
    specCommands?: boolean;
    /** Where a named analysis's command (and image) is found: its libraries are asked there. */
    registry?: AnalysisRegistry;
    containerRuntime?: ContainerRuntime;
  } = {},
): ProvenanceLookups {
  const refused = (spec: AnalysisSpec) => !specCommands && (spec.command?.length ?? 0) > 0;
  return {
    libraries: (spec) =>
      refused(spec)
        ? Promise.reject(new InputError(specCommandRefusal(spec.analysis_name)))
        : libraryVersions(spec, commandRoot, registry?.command?.(spec.analysis_name), containerRuntime),
    codeCommit: async (spec) =>
      refused(spec) ? undefined : (await codeProvenance(codeDirOf(spec, registryDir, commandRoot))).commit,
  };
}
