import type { AnalysisSpec } from '../types';
import { namedPool } from '../worker-pools';
import type { AnalysisRegistry } from './definition';

/**
 * The spec as its tasks carry it to the job: a registered command analysis's manifest decides
 * what it downloads, how long an attempt may take and how often it is tried, over the spec and
 * the dispatcher's defaults, since the worker's operator knows the program. The pool of any
 * registered analysis travels too: the job sends the run step to that pool's task queue.
 */
export function withRunPolicy<S extends AnalysisSpec>(spec: S, registry: AnalysisRegistry): S {
  if (spec.command?.length) return spec;
  const pool = namedPool(registry.get(spec.analysis_name)?.pool);
  const registered = registry.command?.(spec.analysis_name);
  if (!registered) return pool ? { ...spec, pool } : spec;
  const commandPool = namedPool(registered.pool);
  return {
    ...spec,
    ...(commandPool ? { pool: commandPool } : {}),
    ...(registered.download_inputs !== undefined ? { download_inputs: registered.download_inputs } : {}),
    ...(registered.timeout !== undefined ? { timeout: registered.timeout } : {}),
    ...(registered.max_attempts !== undefined ? { max_attempts: registered.max_attempts } : {}),
  };
}
