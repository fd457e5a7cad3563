import { codeDirOf, codeProvenance, libraryVersions } from './provenance';
import type { AnalysisSpec } from '../types';

/** How the planner and the duplicate check learn the code and libraries a task would run with. */
export interface ProvenanceLookups {
  libraries: (spec: AnalysisSpec) => Promise<Record<string, string>>;
  codeCommit: (spec: AnalysisSpec) => Promise<string | undefined>;
}

export function provenanceLookups(registryDir: string, commandRoot: string): ProvenanceLookups {
  return {
    libraries: (spec) => libraryVersions(spec, commandRoot),
    codeCommit: async (spec) => (await codeProvenance(codeDirOf(spec, registryDir, commandRoot))).commit,
  };
}
