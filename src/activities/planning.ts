import { Context } from '@temporalio/activity';
import type { S3Client } from '@aws-sdk/client-s3';
import type { AnalysisRegistry } from '../analysis/definition';
import { asActivityFailure, InputError } from '../errors';
import { fieldPath } from '../request/flag-values';
import { checkParameterKeys } from '../request/parameter-keys';
import { checkQuery } from '../request/query';
import { checkSpecs } from '../request/spec';
import { planDispatch } from '../planning/plan-dispatch';
import { planRetry } from '../planning/plan-retry';
import { unservedPoolWarnings } from '../pool-pollers';
import { createRequestStore } from '../storage/request-store';
import type { PlanStore } from '../storage/plan-store';
import type { Stores } from '../storage/database';
import type { DispatchRequest, PlanSummary, Task } from '../types';
import type { ProvenanceLookups } from '../analysis/provenance-lookups';

export interface PlanningDeps extends ProvenanceLookups {
  stores: Stores;
  /** Where plans are saved and their jobs read. */
  plans: PlanStore;
  s3: S3Client;
  registry: AnalysisRegistry;
  allowSpecCommands: boolean;
}

const HEARTBEAT_MS = 5_000;

/**
 * The request itself (dispatches of earlier versions), or the id it was saved under. Activity
 * inputs are kept in workflow histories, so their field names stay as workflows of every version
 * send them: `planId` is the id of the dispatch to plan.
 */
export type PlanInput = { planId: string } & ({ request: DispatchRequest } | { requestId: string });

export const createPlanActivities = (deps: PlanningDeps) => {
  const store = deps.plans;
  const requests = createRequestStore(deps.stores.analysisDb);
  return {
    /** Selects, discovers and expands; stores the jobs outside workflow history and returns only counts. */
    async planDispatch(input: PlanInput): Promise<PlanSummary> {
      const context = Context.current();
      // Heartbeats on a timer too: one slow listing or query must not look like a dead worker.
      const beat = setInterval(() => context.heartbeat(), HEARTBEAT_MS);
      const dispatchId = input.planId;
      try {
        const request =
          'request' in input ? input.request : checkStoredRequest(await requests.load(input.requestId));
        const { summary } = await planDispatch(
          {
            assets: deps.stores.assets,
            records: deps.stores.records,
            s3: deps.s3,
            store,
            registry: deps.registry,
            allowSpecCommands: deps.allowSpecCommands,
            libraries: deps.libraries,
            codeCommit: deps.codeCommit,
            log: (message: string, fields?: Record<string, unknown>) =>
              context.log.info(message, { dispatch_id: dispatchId, ...fields }),
            heartbeat: () => context.heartbeat(),
            // Planning runs on the shared queue, the one every pool's queue is named after.
            poolWarnings: (pools) => unservedPoolWarnings(context.client, context.info.taskQueue, pools),
          },
          request,
          dispatchId,
          { store: true, listTasks: false },
        );
        return summary;
      } catch (err) {
        throw asActivityFailure(err);
      } finally {
        clearInterval(beat);
      }
    },

    /**
     * The plan of a retry: another dispatch's tasks that have no record yet. `fromPlanId` is the
     * dispatch retried, `planId` the retry's own.
     */
    async planRetry(input: {
      fromPlanId: string;
      planId: string;
      tasksPerJob: number;
    }): Promise<PlanSummary> {
      const context = Context.current();
      try {
        return await planRetry(
          { records: deps.stores.records, store, heartbeat: () => context.heartbeat() },
          { retryOf: input.fromPlanId, dispatchId: input.planId, tasksPerJob: input.tasksPerJob },
        );
      } catch (err) {
        throw asActivityFailure(err);
      }
    },

    /** A job of the plan of the dispatch `planId`. */
    async loadJob(input: { planId: string; jobIndex: number; jobsPerPage: number }): Promise<Task[]> {
      return store.loadJob(input.planId, input.jobIndex, input.jobsPerPage);
    },
  };
};

/**
 * A request read back from the database, checked as the CLI checked it before saving it: anyone
 * who can write the database could have edited it since (a `$where` in its query, a field path
 * that is an operator, a spec the CLI would refuse). A refusal fails the planning for good.
 */
export function checkStoredRequest(request: DispatchRequest): DispatchRequest {
  const source = 'the stored request';
  if (request === null || typeof request !== 'object' || Array.isArray(request))
    throw new InputError(`${source} is not a JSON object`);
  if ((request.query === undefined) === (request.asset_ids === undefined))
    throw new InputError(`${source} must select its assets by a query or by a list of ids, one of the two`);
  if (request.query !== undefined) checkQuery(request.query, `${source}'s query`);
  if (request.asset_ids !== undefined && !isList(request.asset_ids, (id) => typeof id === 'string'))
    throw new InputError(`${source}'s asset_ids must be a list of strings`);
  const paths: Array<[string, unknown]> = [
    ['asset_id_field', request.asset_id_field === undefined ? [] : [request.asset_id_field]],
    ['group_by', request.group_by ?? []],
    ['filter_by', request.filter_by ?? []],
    ['unwind_list_fields', request.unwind_list_fields ?? []],
    ['filter_latest', request.filter_latest === undefined ? [] : [request.filter_latest]],
  ];
  for (const [name, values] of paths) {
    if (!isList(values, (value) => typeof value === 'string'))
      throw new InputError(`${source}'s ${name} must hold field paths`);
    for (const value of values as string[]) fieldPath(value, `${source}'s ${name}`);
  }
  const specs = checkSpecs(request.specs, `${source}'s specs`);
  if (!isPlainObject(request.fixed_parameters) || !isList(request.distributed_parameters, isPlainObject))
    throw new InputError(`${source}'s fixed_parameters and distributed_parameters must be JSON objects`);
  checkParameterKeys(specs, request);
  for (const name of ['tasks_per_job', 'num_parallel_workers'] as const)
    if (request[name] !== undefined && (!Number.isSafeInteger(request[name]) || request[name] < 1))
      throw new InputError(`${source}'s ${name} must be a positive integer`);
  return request;
}

function isList(value: unknown, item: (value: unknown) => boolean): value is unknown[] {
  return Array.isArray(value) && value.every(item);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
