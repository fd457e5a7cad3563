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
  return definition;
}
