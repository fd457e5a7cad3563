import type { AnalysisRegistry } from '../analysis/definition';
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
 * Checks every merged set of a TypeScript analysis against its parameter schema before anything
 * runs. Command analyses validate their own input, so they are not checked here.
 */
export function checkParameterSets(
  specs: AnalysisSpec[],
  request: ParameterRequest,
  registry: AnalysisRegistry,
): void {
  for (const spec of specs) {
    if (spec.command) continue;
    const definition = registry.get(spec.analysis_name);
    if (!definition) {
      const known = registry.names();
      throw new InputError(
        `analysis "${spec.analysis_name}" is not a registered TypeScript analysis (known: ${known.length ? known.join(', ') : 'none'}); give the specification a "command" to run a program instead`,
      );
    }
    for (const set of parameterSets(spec, request)) {
      const result = definition.parameters.safeParse(set.parameters);
      if (!result.success) {
        throw new InputError(
          `invalid parameters for analysis "${spec.analysis_name}" ${spec.analysis_version} (${set.source}): ${formatIssues(result.error.issues)}`,
        );
      }
    }
  }
}
