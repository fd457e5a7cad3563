import { Context } from '@temporalio/activity';
import type { S3Client } from '@aws-sdk/client-s3';
import type { AnalysisRegistry } from '../analysis/definition';
import { asActivityFailure, ErrorType, nonRetryable } from '../errors';
import { planDispatch } from '../planning/plan-dispatch';
import type { PlanStore } from '../planning/store';
import type { Stores } from '../storage/database';
import type { DispatchRequest, PlanSummary, Task } from '../types';
import type { ProvenanceLookups } from '../analysis/provenance-lookups';

export interface PlanningDeps extends ProvenanceLookups {
  stores: Stores;
  /** Where plans are saved and their jobs read. */
  plans: PlanStore;
  s3: S3Client;
  registry: AnalysisRegistry;
}

const HEARTBEAT_MS = 5_000;

export const createPlanActivities = (deps: PlanningDeps) => {
  const store = deps.plans;
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

    /**
     * The plan of a retry: the tasks of another dispatch's plan that have no record yet (they
     * failed, were cancelled or never started). Done tasks are not even planned.
     */
    async planRetry(input: {
      fromPlanId: string;
      planId: string;
      tasksPerJob: number;
    }): Promise<PlanSummary> {
      const context = Context.current();
      const tasks: Task[] = [];
      for await (const job of store.iterateJobs(input.fromPlanId)) tasks.push(...job.tasks);
      if (tasks.length === 0) {
        throw nonRetryable(
          ErrorType.InvalidInput,
          `dispatch ${input.fromPlanId} has no stored plan to retry`,
        );
      }
      context.heartbeat();
      // One streamed read of the analyses' records, not one lookup per task: FerretDB's SQLite backend
      // scans for each lookup, about a second each in a collection of 200,000 records.
      const names = [...new Set(tasks.map((task) => task.analysis.analysis_name))];
      const recorded = new Set<string>();
      const cursor = deps.stores.records.find({ analysis_name: { $in: names } }, { projection: { _id: 1 } });
      for await (const doc of cursor) recorded.add(String(doc._id));
      const undone = tasks.filter((task) => !recorded.has(task.hash));
      const jobs: Task[][] = [];
      for (let i = 0; i < undone.length; i += input.tasksPerJob)
        jobs.push(undone.slice(i, i + input.tasksPerJob));
      const { jobs_per_page } = await store.save(input.planId, jobs);
      return {
        plan_id: input.planId,
        assets: new Set(tasks.flatMap((task) => task.input.s3_location)).size,
        assets_without_location: 0,
        assets_without_files: 0,
        tasks_total: tasks.length,
        tasks_new: undone.length,
        tasks_done: tasks.length - undone.length,
        tasks_changed_code: 0,
        tasks_to_run: undone.length,
        jobs: jobs.length,
        jobs_per_page,
        warnings: [],
      };
    },

    async loadJob(input: { planId: string; jobIndex: number; jobsPerPage: number }): Promise<Task[]> {
      return store.loadJob(input.planId, input.jobIndex, input.jobsPerPage);
    },
  };
};
