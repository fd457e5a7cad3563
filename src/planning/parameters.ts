import type { AnalysisRegistry } from '../analysis/definition';
import { specCommandRefusal } from '../analysis/spec-command';
import { InputError } from '../errors';
import type { AnalysisSpec, DispatchRequest } from '../types';
import { formatIssues } from '../zod-issues';

/** One parameter set of a spec: the merged values and where they came from, for messages. */
export interface ParameterSet {
  source: string;
  parameters: Record<string, unknown>;
  /** The `distributed_parameters` entry of this set, if any. */
  distributed?: Record<string, unknown>;
}

type ParameterRequest = Pick<DispatchRequest, 'fixed_parameters' | 'distributed_parameters'>;

/**
 * The parameter sets of one spec, later winning: the spec's own `analysis_parameters`, then
 * `fixed_parameters`, then one `distributed_parameters` entry. No distributed entries means one set.
 */
export function parameterSets(spec: AnalysisSpec, request: ParameterRequest): ParameterSet[] {
  const base = { ...spec.analysis_parameters, ...request.fixed_parameters };
  if (request.distributed_parameters.length === 0) return [{ source: 'fixed parameters', parameters: base }];
  return request.distributed_parameters.map((entry, index) => ({
    source: `distributed_parameters[${index}]`,
    parameters: { ...base, ...entry },
    distributed: entry,
  }));
}

/**
 * Checks before anything runs that every spec names an analysis the registry holds (or gives a
 * command this worker may run), and every merged parameter set against that analysis's schema:
 * zod for TypeScript analyses, JSON Schema for registered commands. A spec's own command brings
 * no schema, so its parameters are the program's business.
 */
export function checkParameterSets(
  specs: AnalysisSpec[],
  request: ParameterRequest,
  registry: AnalysisRegistry,
  allowSpecCommands = false,
): void {
  for (const spec of specs) {
    if (spec.command) {
      if (!allowSpecCommands) throw new InputError(specCommandRefusal(spec.analysis_name));
      continue;
    }
    const check = parameterCheck(spec.analysis_name, registry);
    for (const set of parameterSets(spec, request)) {
      const problems = check(set.parameters);
      if (problems) {
        throw new InputError(
          `invalid parameters for analysis "${spec.analysis_name}" ${spec.analysis_version} (${set.source}): ${problems}`,
        );
      }
    }
  }
}

/** The registered analysis's parameter check: the problems with fields named, or undefined. */
function parameterCheck(name: string, registry: AnalysisRegistry): (value: unknown) => string | undefined {
  const definition = registry.get(name);
  if (definition) {
    return (value) => {
      const result = definition.parameters.safeParse(value);
      return result.success ? undefined : formatIssues(result.error.issues);
    };
  }
  const command = registry.command?.(name);
  if (command) {
    return (value) => {
      const result = command.parameters(value);
      return result.ok ? undefined : result.problems;
    };
  }
  const known = registry.names();
  throw new InputError(
    `analysis "${name}" is not registered on the workers (known: ${known.length ? known.join(', ') : 'none'}); declare it in the analyses folder, as a TypeScript module or a command manifest (<name>.analysis.json)`,
  );
}
