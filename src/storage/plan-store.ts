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
  /**
   * Saves a plan job by job as planning makes it, replacing an earlier attempt's: pages are
   * written as they fill, so the plan is never held whole. `tasksPerJob` is the request's.
   */
  writer(dispatchId: string, tasksPerJob: number): Promise<PlanWriter>;
  loadJob(dispatchId: string, jobIndex: number, jobsPerPage: number): Promise<Task[]>;
  iterateJobs(dispatchId: string): AsyncIterable<{ index: number; tasks: Task[] }>;
  delete(dispatchId: string): Promise<void>;
}

export interface PlanWriter {
  add(job: Task[]): Promise<void>;
  /** Writes what is left; the layout every job of the plan is read back with. */
  finish(): Promise<{ jobs_per_page: number }>;
  /** Removes what was written, for a plan that failed half-way. */
  abort(): Promise<void>;
}

/**
 * Jobs per page for a plan, learnt job by job: about TASKS_PER_PAGE tasks, fewer when jobs are
 * large. Only the longest job and the largest one's size are kept.
 */
export class PageLayout {
  private tasksPerJob = 1;
  private largest = 1;

  /** The job as it is stored; refuses one no page can hold. */
  add(job: Task[]): string {
    const text = JSON.stringify(job);
    const bytes = Buffer.byteLength(text);
    if (bytes > MAX_JOB_BYTES) {
      throw new InputError(
        `one job of the plan is ${(bytes / 2 ** 20).toFixed(1)} MiB, more than a plan page can hold: lower --tasks_per_job or use fewer files per task`,
      );
    }
    this.tasksPerJob = Math.max(this.tasksPerJob, job.length);
    this.largest = Math.max(this.largest, bytes);
    return text;
  }

  jobsPerPage(): number {
    return layoutFor(this.tasksPerJob, this.largest);
  }
}

function layoutFor(tasksPerJob: number, largestBytes: number): number {
  return Math.max(
    1,
    Math.min(Math.floor(TASKS_PER_PAGE / tasksPerJob), Math.floor(PAGE_BYTES / largestBytes)),
  );
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

  async function writer(dispatchId: string, tasksPerJob: number): Promise<PlanWriter> {
    forget(dispatchId);
    // Replace whatever an earlier attempt wrote, so a retried planning activity is idempotent.
    await pages.deleteMany({ plan_id: dispatchId });
    const layout = new PageLayout();
    // Every job but the last has the request's length, so only their size can make pages
    // smaller than this; a plan whose largest job does is written again (repage).
    const perPage = layoutFor(Math.max(1, tasksPerJob), 1);
    const pageWriter = createPageWriter(pages, dispatchId);
    let page: string[] = [];
    let jobs = 0;
    return {
      async add(job) {
        page.push(layout.add(job));
        jobs += 1;
        if (page.length === perPage) {
          await pageWriter.add(page);
          page = [];
        }
      },
      async finish() {
        if (page.length > 0) await pageWriter.add(page);
        page = [];
        await pageWriter.flush();
        const final = layout.jobsPerPage();
        if (final < perPage && jobs > final) await repage(pages, dispatchId, final);
        return { jobs_per_page: final };
      },
      async abort() {
        await pages.deleteMany({ plan_id: dispatchId });
        await pages.deleteMany({ plan_id: repagingId(dispatchId) });
      },
    };
  }

  return {
    async save(dispatchId, jobs) {
      const plan = await writer(
        dispatchId,
        jobs.reduce((most, job) => Math.max(most, job.length), 1),
      );
      try {
        for (const job of jobs) await plan.add(job);
        return await plan.finish();
      } catch (err) {
        await plan.abort().catch(() => undefined);
        throw err;
      }
    },

    writer,

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

/** Pages of stored job texts, inserted a few at a time under `planId`, numbered from 0. */
function createPageWriter(pages: Collection<PlanPage>, planId: string) {
  const createdAt = new Date();
  let docs: PlanPage[] = [];
  let next = 0;
  const flush = async () => {
    if (docs.length > 0) await pages.insertMany(docs);
    docs = [];
  };
  const addText = async (jobs: string) => {
    docs.push({ _id: `${planId}:${next}`, plan_id: planId, page: next, jobs, created_at: createdAt });
    next += 1;
    if (docs.length === PAGES_PER_INSERT) await flush();
  };
  return {
    /** A page of the jobs' stored texts: the text JSON.stringify gives the list, without parsing them again. */
    add(jobs: string[]) {
      return addText(`[${jobs.join(',')}]`);
    },
    addText,
    flush,
  };
}

function repagingId(dispatchId: string): string {
  return `${dispatchId}:repaging`;
}

/**
 * Lays out again, `perPage` jobs a page, a plan whose jobs turned out too large for the pages it
 * was written in: first into pages of their own, then back under the dispatch's id, one page in
 * memory at a time.
 */
async function repage(pages: Collection<PlanPage>, dispatchId: string, perPage: number): Promise<void> {
  const staging = repagingId(dispatchId);
  await pages.deleteMany({ plan_id: staging });
  const restaged = createPageWriter(pages, staging);
  let jobs: string[] = [];
  for await (const doc of pages.find({ plan_id: dispatchId }, { sort: { page: 1 }, batchSize: 2 })) {
    for (const job of JSON.parse(doc.jobs) as Task[][]) {
      jobs.push(JSON.stringify(job));
      if (jobs.length === perPage) {
        await restaged.add(jobs);
        jobs = [];
      }
    }
  }
  if (jobs.length > 0) await restaged.add(jobs);
  await restaged.flush();
  await pages.deleteMany({ plan_id: dispatchId });
  const final = createPageWriter(pages, dispatchId);
  for await (const doc of pages.find({ plan_id: staging }, { sort: { page: 1 }, batchSize: 2 }))
    await final.addText(doc.jobs);
  await final.flush();
  await pages.deleteMany({ plan_id: staging });
}
