import { Context } from '@temporalio/activity';
import type { S3Client } from '@aws-sdk/client-s3';
import type { AnalysisRegistry } from '../analysis/types';
import type { Stores } from '../clients';
import { asActivityFailure } from '../errors';
import { planDispatch } from '../planning/plan';
import { createPlanStore } from '../planning/store';
import type { DispatchRequest, PlanSummary, Task } from '../types';
import type { ProvenanceLookups } from './provenance';

export interface PlanDeps extends ProvenanceLookups {
  stores: Stores;
  s3: S3Client;
  registry: AnalysisRegistry;
}

const HEARTBEAT_MS = 5_000;

export const createPlanActivities = (deps: PlanDeps) => {
  const store = createPlanStore(deps.stores.analysisDb);
  return {
    /** Selects, discovers and expands; stores the jobs outside workflow history and returns only counts. */
    async planDispatch(input: { request: DispatchRequest; planId: string }): Promise<PlanSummary> {
      const context = Context.current();
      // Heartbeats on a timer too: one slow listing or query must not look like a dead worker.
      const beat = setInterval(() => context.heartbeat(), HEARTBEAT_MS);
      try {
        const { summary } = await planDispatch(
          {
            assets: deps.stores.assets,
            records: deps.stores.records,
            s3: deps.s3,
            store,
            registry: deps.registry,
            libraries: deps.libraries,
            codeCommit: deps.codeCommit,
            log: (message: string, fields?: Record<string, unknown>) =>
              context.log.info(message, { dispatch_id: input.planId, ...fields }),
            heartbeat: () => context.heartbeat(),
          },
          input.request,
          input.planId,
          { store: true },
        );
        return summary;
      } catch (err) {
        throw asActivityFailure(err);
      } finally {
        clearInterval(beat);
      }
    },

    async loadJob(input: { planId: string; jobIndex: number; jobsPerPage: number }): Promise<Task[]> {
      return store.loadJob(input.planId, input.jobIndex, input.jobsPerPage);
    },
  };
};
