import type { Collection } from 'mongodb';
import { InputError } from '../errors';
import type { PlanSummary, StoredRecord, Task } from '../types';
import { inputsChanged } from '../input-digest';
import { splitIntoJobs } from './plan-dispatch';
import type { PlanStore } from '../storage/plan-store';

export interface RetryDeps {
  records: Collection<StoredRecord>;
  store: PlanStore;
  /** Called between long steps, e.g. to heartbeat the planning activity. */
  heartbeat?: () => void;
}

/**
 * The plan of a retry: the tasks of another dispatch's plan that have no record yet (they
 * failed, were cancelled or never started), or still their record of earlier inputs when they
 * were to replace it, saved as the plan of `dispatchId`. Done tasks are not even planned.
 */
export async function planRetry(
  deps: RetryDeps,
  input: { retryOf: string; dispatchId: string; tasksPerJob: number },
): Promise<PlanSummary> {
  const tasks: Task[] = [];
  for await (const job of deps.store.iterateJobs(input.retryOf)) tasks.push(...job.tasks);
  if (tasks.length === 0) throw new InputError(`dispatch ${input.retryOf} has no stored plan to retry`);
  deps.heartbeat?.();
  // One streamed read of the analyses' records, not one lookup per task: FerretDB's SQLite backend
  // scans for each lookup, about a second each in a collection of 200,000 records.
  const names = [...new Set(tasks.map((task) => task.analysis.analysis_name))];
  // Digests of the inputs records were made from: a task planned to replace its record (its
  // inputs changed) is done only once a record of the current inputs replaced it.
  const recorded = new Map<string, string | undefined>();
  const cursor = deps.records.find(
    { analysis_name: { $in: names } },
    { projection: { _id: 1, input_digest: 1 } },
  );
  for await (const doc of cursor) recorded.set(doc._id, 'input_digest' in doc ? doc.input_digest : undefined);
  const undone = tasks.filter(
    (task) =>
      !recorded.has(task.hash) ||
      (task.replace_record === true && inputsChanged(recorded.get(task.hash), task)),
  );
  const jobs = splitIntoJobs(undone, input.tasksPerJob);
  const { jobs_per_page } = await deps.store.save(input.dispatchId, jobs);
  return {
    plan_id: input.dispatchId,
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
}
