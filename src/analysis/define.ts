import { InputError } from '../errors';
import { POOL_NAME, POOL_NAME_RULE } from '../worker-pools';
import type { AnalysisDefinition } from './definition';

/**
 * Declares a TypeScript analysis. The helper ties the types together: `P` and `O` are inferred
 * from the zod schemas, so `run` sees parameters as the schema outputs them (defaults applied)
 * and must return what the outputs schema describes.
 */
export function defineAnalysis<P, O extends Record<string, unknown>>(
  definition: AnalysisDefinition<P, O>,
): AnalysisDefinition<P, O> {
  if (!definition.name.trim()) throw new Error('An analysis needs a non-empty name');
  const problem = poolProblem(definition.pool);
  if (problem) throw new Error(`Analysis "${definition.name}": ${problem}`);
  const capProblem = maxConcurrentProblem(definition.max_concurrent);
  if (capProblem) throw new InputError(`Analysis "${definition.name}": ${capProblem}`);
  return definition;
}

export const MAX_CONCURRENT_RULE = 'must be a whole number, at least 1';

/** Why a definition's `max_concurrent` cannot cap its runs, or undefined when it can (or is absent). */
export function maxConcurrentProblem(cap: unknown): string | undefined {
  if (cap === undefined) return undefined;
  if (typeof cap !== 'number' || !Number.isInteger(cap) || cap < 1)
    return `max_concurrent: ${MAX_CONCURRENT_RULE}`;
  return undefined;
}

/** Why a definition's `pool` is not a pool name, or undefined when it is one (or absent). */
export function poolProblem(pool: unknown): string | undefined {
  if (pool === undefined) return undefined;
  if (typeof pool !== 'string' || !POOL_NAME.test(pool)) return `pool: ${POOL_NAME_RULE}`;
  return undefined;
}
