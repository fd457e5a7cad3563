import { Context } from '@temporalio/activity';
import type { S3Client } from '@aws-sdk/client-s3';
import type { AnalysisRegistry } from '../analysis/definition';
import { asActivityFailure } from '../errors';
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
        const request = 'request' in input ? input.request : await requests.load(input.requestId);
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
          { store: true },
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
