import type { Collection, Db } from 'mongodb';
import { InputError } from '../errors';
import type { Task } from '../types';

export const PLAN_COLLECTION = 'dispatch_plans';

/** About this many tasks per page: FerretDB scans for lookups, so few large documents beat many small ones. */
const TASKS_PER_PAGE = 200;
/** Kept well under the 16 MiB document limit of MongoDB, DocumentDB and FerretDB. */
const PAGE_BYTES = 4 * 1024 * 1024;
const MAX_JOB_BYTES = 12 * 1024 * 1024;
const PAGES_PER_INSERT = 8;
const CACHED_PAGES = 8;

/**
 * Jobs are stored as JSON text, not as BSON: FerretDB refuses nested arrays (a job is an array of
 * tasks), and task fields such as group values (`subject.subject_id`) or user parameters may hold
 * keys with dots or `$` that not every server accepts. The database never needs to look inside.
 */
interface PlanPage {
  _id: string;
  plan_id: string;
  page: number;
  jobs: string;
  created_at: Date;
}

/**
 * Plans live here rather than in workflow history, so that no workflow input, result or history
 * grows with the number of jobs: a dispatch carries only its id, which names its plan, and the page
 * layout.
 */
export interface PlanStore {
  save(dispatchId: string, jobs: Task[][]): Promise<{ jobs_per_page: number }>;
  loadJob(dispatchId: string, jobIndex: number, jobsPerPage: number): Promise<Task[]>;
  iterateJobs(dispatchId: string): AsyncIterable<{ index: number; tasks: Task[] }>;
  delete(dispatchId: string): Promise<void>;
}

/** Jobs per page for these jobs: about TASKS_PER_PAGE tasks, fewer when jobs are large. */
export function jobsPerPage(jobs: Task[][]): number {
  // reduce, not Math.max(...spread): a plan may hold more jobs than a call has argument slots.
  const tasksPerJob = jobs.reduce((most, job) => Math.max(most, job.length), 1);
  const largest = jobs.reduce((most, job) => Math.max(most, Buffer.byteLength(JSON.stringify(job))), 1);
  if (largest > MAX_JOB_BYTES) {
    throw new InputError(
      `one job of the plan is ${(largest / 2 ** 20).toFixed(1)} MiB, more than a plan page can hold: lower --tasks_per_job or use fewer files per task`,
    );
  }
  return Math.max(1, Math.min(Math.floor(TASKS_PER_PAGE / tasksPerJob), Math.floor(PAGE_BYTES / largest)));
}

export function createPlanStore(db: Db): PlanStore {
  const pages: Collection<PlanPage> = db.collection<PlanPage>(PLAN_COLLECTION);
  // Pages never change once a dispatch starts using them (a retried save happens before any job
  // reads the plan), so jobs started in order can share the page their neighbours loaded.
  const cache = new Map<string, Task[][]>();
  const forget = (dispatchId: string) => {
    for (const key of cache.keys()) if (key.startsWith(`${dispatchId}:`)) cache.delete(key);
  };

  async function readPage(dispatchId: string, page: number): Promise<Task[][]> {
    const id = `${dispatchId}:${page}`;
    const cached = cache.get(id);
    if (cached) return cached;
    const doc = await pages.findOne({ _id: id });
    if (!doc) throw new Error(`plan page ${id} not found in ${PLAN_COLLECTION}`);
    const jobs = JSON.parse(doc.jobs) as Task[][];
    cache.set(id, jobs);
    if (cache.size > CACHED_PAGES) cache.delete(cache.keys().next().value as string);
    return jobs;
  }

  return {
    async save(dispatchId, jobs) {
      const perPage = jobsPerPage(jobs);
      forget(dispatchId);
      // Replace whatever an earlier attempt wrote, so a retried planning activity is idempotent.
      await pages.deleteMany({ plan_id: dispatchId });
      const docs: PlanPage[] = [];
      const createdAt = new Date();
      for (let start = 0, page = 0; start < jobs.length; start += perPage, page += 1) {
        docs.push({
          _id: `${dispatchId}:${page}`,
          plan_id: dispatchId,
          page,
          jobs: JSON.stringify(jobs.slice(start, start + perPage)),
          created_at: createdAt,
        });
      }
      for (let start = 0; start < docs.length; start += PAGES_PER_INSERT) {
        await pages.insertMany(docs.slice(start, start + PAGES_PER_INSERT));
      }
      return { jobs_per_page: perPage };
    },

    async loadJob(dispatchId, jobIndex, perPage) {
      const jobs = await readPage(dispatchId, Math.floor(jobIndex / perPage));
      const job = jobs[jobIndex % perPage];
      if (!job) throw new Error(`job ${jobIndex} not found in plan ${dispatchId}`);
      return job;
    },

    async *iterateJobs(dispatchId) {
      let index = 0;
      const cursor = pages.find({ plan_id: dispatchId }, { sort: { page: 1 }, batchSize: 2 });
      try {
        for await (const doc of cursor) {
          for (const tasks of JSON.parse(doc.jobs) as Task[][]) yield { index: index++, tasks };
        }
      } finally {
        await cursor.close();
      }
    },

    async delete(dispatchId) {
      forget(dispatchId);
      await pages.deleteMany({ plan_id: dispatchId });
    },
  };
}
