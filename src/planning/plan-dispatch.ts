import type { S3Client } from '@aws-sdk/client-s3';
import type { Collection } from 'mongodb';
import type { AnalysisRegistry } from '../analysis/definition';
import { withRunPolicy } from '../analysis/run-policy';
import { InputError } from '../errors';
import { canonicalJson } from '../identity';
import { changedInputs, type ChangedInput } from '../input-digest';
import type { AnalysisSpec, DispatchRequest, PlanSummary, StoredRecord, Task, TaskStatus } from '../types';
import { checkOutputBuckets } from './buckets';
import { discoverFiles } from './discover';
import { expandedTasks, identifyTasks, prepareExpansion } from './expand';
import { fingerprintListedFiles, fingerprintTasks, type ObjectFacts } from './fingerprint';
import { levels, type PlanLog } from './log';
import { checkParameterSets } from './parameters';
import { selectAssets, type SelectedAsset } from './select';
import {
  readRecorded,
  taskStates,
  type RecordedFacts,
  type RecordedQuery,
  type RecordReader,
  type TaskState,
} from './task-status';
import { UpstreamIndex } from './upstream';
import { PageLayout, type PlanStore, type PlanWriter } from '../storage/plan-store';
import { collectWarnings } from './warnings';

export interface PlanDeps {
  assets: Collection;
  records: Collection<StoredRecord>;
  s3: S3Client;
  store: PlanStore;
  registry: AnalysisRegistry;
  /** Whether the workers run a `command` given in a spec; absent: they do not. */
  allowSpecCommands?: boolean;
  /** Installed versions of a spec's `analysis_libraries`. */
  libraries(spec: AnalysisSpec): Promise<Record<string, string>>;
  /** Commit of the code that would run a spec now, when known. */
  codeCommit(spec: AnalysisSpec): Promise<string | undefined>;
  log: PlanLog;
  /** Called now and then during long steps, e.g. to heartbeat a planning activity. */
  heartbeat?: () => void;
  /**
   * Warnings for the named worker pools no worker is polling (src/pool-pollers.ts); absent: the
   * pools are not checked. Called only when a task to run names a pool.
   */
  poolWarnings?: (pools: string[]) => Promise<string[]>;
  /** Reads along with planning's one read of the records, given the tasks planned (`plan --explain`). */
  recordReader?: (tasks: Task[]) => RecordReader;
}

export interface PlannedTask {
  task: Task;
  status: TaskStatus;
  /** A done task one of whose inputs changed since its record was made; absent: unknown, not changed. */
  inputs_changed?: boolean;
  /** Those inputs, each with its recorded and current fingerprint (previews only: `store` false). */
  changed_inputs?: ChangedInput[];
  /** A task done by the wrapper its spec names (`upstream_code`): that record's `_id`. */
  upstream_record?: string;
  /**
   * False for tasks already done (unless forced, or their inputs changed and
   * --rerun_changed_inputs asks), and for those --max_number_of_tasks_dispatched left out.
   */
  will_run: boolean;
}

export interface PlanResult {
  summary: PlanSummary;
  /**
   * Every task with its status, for `plan --json`; held in memory by the CLI, never by a workflow.
   * Empty when planning was asked not to list them (`listTasks` false), as the worker's planning is.
   */
  tasks: PlannedTask[];
}

/** Tasks settled against their records at a time: what planning holds of whole tasks. */
const BATCH = 1_000;

/**
 * Everything a dispatch will do, checked before any of it is written: inputs, parameters and
 * buckets first, so a bad request leaves nothing behind. Jobs are saved only when `store` is set,
 * page by page as planning makes them; every task is kept for the result unless `listTasks` is
 * false, so a stored plan of any size is never held whole.
 *
 * Two passes over the expansion: the first keeps only each task's identity hash, for the one
 * read of the records; the second makes the tasks again, a batch at a time, settles each against
 * its record and hands those to run to the plan's pages.
 */
export async function planDispatch(
  deps: PlanDeps,
  requested: DispatchRequest,
  dispatchId: string,
  opts: { store: boolean; listTasks?: boolean },
): Promise<PlanResult> {
  const beat = deps.heartbeat ?? (() => undefined);
  const report = collectWarnings(deps.log);
  const { info } = levels(deps.log);
  checkParameterSets(requested.specs, requested, deps.registry, deps.allowSpecCommands);
  // Tasks carry the run policy of the analysis the workers registered to the job that runs them.
  const request = { ...requested, specs: requested.specs.map((spec) => withRunPolicy(spec, deps.registry)) };
  await checkOutputBuckets(deps.s3, request.specs);

  const selection = selectAssets(deps.assets, request, report.warn);
  const assets: SelectedAsset[] = [];
  // Only groups read an asset's other fields: without them, each asset is three strings.
  const grouped = request.group_by.length > 0;
  for await (const asset of selection) {
    assets.push(grouped ? asset : { id: asset.id, name: asset.name, location: asset.location });
    if (assets.length % 1000 === 0) beat();
  }
  info(`selected ${assets.length} assets (${selection.stats.withoutLocation} skipped without a location)`);

  let files: Map<string, string[]> | undefined;
  // ETags and sizes of the files found, from the listing discovery does anyway.
  const facts: ObjectFacts = new Map();
  if (request.file_extension) {
    files = await discoverFiles(
      deps.s3,
      assets.map((asset) => asset.location),
      request.file_extension,
      32,
      beat,
      facts,
    );
    const found = [...files.values()].reduce((sum, urls) => sum + urls.length, 0);
    if (found === 0) {
      throw new InputError(
        `no file ending with "${request.file_extension}" under any of the ${assets.length} selected assets`,
      );
    }
    info(`found ${found} files ending with "${request.file_extension}"`);
  }

  const libraries = await Promise.all(request.specs.map((spec) => deps.libraries(spec)));
  const expansion = prepareExpansion({ assets, files, request, libraries });
  const hashes = identifyTasks(expansion);
  // What the records and the analyses' task files say of the dispatch as a whole.
  const query = queryForTasks(request, report.warn);
  const tasksOfPlan = () => {
    const tasks = expandedTasks(expansion, hashes);
    return query === undefined && !request.experimenters?.length ? tasks : dressed(tasks);
  };
  function* dressed(tasks: Iterable<Task>) {
    for (const task of tasks) {
      if (query !== undefined) task.query = query;
      if (request.experimenters?.length) task.experimenters = request.experimenters;
      yield task;
    }
  }
  expansion.warnings.forEach(report.warn);
  beat();

  const planned: RecordedQuery = {
    hashes: new Set(hashes.filter((hash): hash is string => hash !== null)),
    analysisNames: [...new Set(request.specs.map((spec) => spec.analysis_name))],
  };
  // Records of the wrapper code specs name (`upstream_code`) come in the same read.
  const upstream = new UpstreamIndex(tasksOfPlan());
  const recorded =
    planned.hashes.size > 0
      ? await readRecorded(deps.records, planned, deps.recordReader?.([...tasksOfPlan()]), upstream)
      : new Map<string, RecordedFacts>();

  const writer = opts.store ? await deps.store.writer(dispatchId, request.tasks_per_job) : undefined;
  const settle = settler(deps, request, { recorded, upstream, facts, beat, warn: report.warn, writer });
  const listed: PlannedTask[] | undefined = opts.listTasks === false ? undefined : [];
  let perPage: number;
  try {
    let batch: Task[] = [];
    const settleBatch = async () => {
      const settled = await settle.batch(batch);
      if (listed) for (const entry of settled) listed.push(entry);
      batch = [];
    };
    for (const task of tasksOfPlan()) {
      batch.push(task);
      if (batch.length === BATCH) await settleBatch();
    }
    await settleBatch();
    const { counts } = settle;
    if (counts.folders > 0)
      info(`fingerprinted ${counts.folders} input folders in ${counts.fingerprintMs} ms`);
    if (counts.changed && !request.force) {
      report.warn(
        `${counts.changed} tasks have a record made by different code: bump analysis_version, or pass --force to rerun them`,
      );
    }
    if (counts.inputsChanged && request.rerun_changed_inputs !== true && !request.force) {
      report.warn(
        `${counts.inputsChanged} done tasks have an input that changed since their record: pass --rerun_changed_inputs 1 to rerun them`,
      );
    }
    if (counts.inputsChanged && listed && !opts.store) await nameChangedInputs(deps.records, listed);
    // A pool nobody serves is no error: its tasks wait on their queue until a worker of it starts.
    if (settle.pools.size > 0 && deps.poolWarnings)
      (await deps.poolWarnings([...settle.pools])).forEach(report.warn);
    if (counts.doneUpstream > 0)
      info(`found ${counts.doneUpstream} tasks done by the wrapper code their specs name`);
    perPage = await settle.finish();
  } catch (err) {
    // A plan that failed half-way leaves no pages; the failure is the planning's, not this cleanup's.
    await writer?.abort().catch(() => undefined);
    throw err;
  }
  const { counts } = settle;

  const summary: PlanSummary = {
    plan_id: dispatchId,
    assets: assets.length,
    assets_without_location: selection.stats.withoutLocation,
    assets_without_files: expansion.assets_without_files,
    tasks_total: counts.total,
    tasks_new: counts.new,
    tasks_done: counts.done,
    ...(counts.doneUpstream > 0 ? { tasks_done_upstream: counts.doneUpstream } : {}),
    tasks_changed_code: counts.changed,
    tasks_changed_inputs: counts.inputsChanged,
    tasks_to_run: counts.toRun,
    ...(request.max_number_of_tasks_dispatched !== undefined &&
    counts.runnable > request.max_number_of_tasks_dispatched
      ? { capped_from: counts.runnable }
      : {}),
    jobs: counts.jobs,
    jobs_per_page: perPage,
    warnings: report.list(),
  };
  info(`planned ${summary.tasks_to_run} of ${summary.tasks_total} tasks in ${summary.jobs} jobs`);
  return { summary, tasks: listed ?? [] };
}

/**
 * Settles the plan's tasks a batch at a time, in plan order: each against its record (new, done,
 * done by other code, inputs changed), the cap, and into jobs, which go to the plan's pages as
 * they fill. Holds no more than a batch and a job of whole tasks, and counts the rest.
 */
function settler(
  deps: PlanDeps,
  request: DispatchRequest,
  context: {
    recorded: Map<string, RecordedFacts>;
    upstream: UpstreamIndex;
    facts: ObjectFacts;
    beat: () => void;
    warn: (message: string) => void;
    writer?: PlanWriter;
  },
) {
  const { recorded, facts } = context;
  const counts = {
    total: 0,
    new: 0,
    done: 0,
    doneUpstream: 0,
    changed: 0,
    inputsChanged: 0,
    runnable: 0,
    toRun: 0,
    jobs: 0,
    folders: 0,
    fingerprintMs: 0,
  };
  const pools = new Set<string>();
  const layout = new PageLayout();
  const cap = request.max_number_of_tasks_dispatched;
  const rerunChanged = request.rerun_changed_inputs === true;
  const commits = new Map<string, Promise<string | undefined>>();
  const codeCommit = (spec: AnalysisSpec) => {
    const key = canonicalJson(spec);
    if (!commits.has(key)) commits.set(key, deps.codeCommit(spec));
    return commits.get(key) as Promise<string | undefined>;
  };
  // A bucket that cannot be listed is named once for the plan, not once per batch.
  const warned = new Set<string>();
  const warnOnce = (message: string) => {
    if (warned.has(message)) return;
    warned.add(message);
    context.warn(message);
  };
  let job: Task[] = [];
  const addJob = async (tasks: Task[]) => {
    counts.jobs += 1;
    if (context.writer) await context.writer.add(tasks);
    else layout.add(tasks);
  };

  return {
    counts,
    pools,
    async batch(tasks: Task[]): Promise<PlannedTask[]> {
      if (tasks.length === 0) return [];
      // Files' facts came with discovery; folder-shaped inputs (asset prefixes, zarr stores) need
      // listings of their own, so here only those of tasks whose record kept fingerprints to
      // compare with are listed. Records made before fingerprints were kept cost no listing.
      const started = Date.now();
      counts.folders += await fingerprintTasks(
        deps.s3,
        tasks.filter((task) => recorded.get(task.hash)?.digest !== undefined),
        facts,
        { onListed: context.beat, warn: warnOnce },
      );
      counts.fingerprintMs += Date.now() - started;
      const states = await taskStates(recorded, tasks, codeCommit);
      const toRun: Task[] = [];
      const settled = tasks.map((task, index): PlannedTask => {
        let state = states[index] as TaskState;
        // A task without a record of its own may have one by the wrapper its spec names.
        const upstreamRecord = state.status === 'new' ? context.upstream.recordOf(task) : undefined;
        if (upstreamRecord !== undefined) {
          state = { status: 'done', inputs_changed: false };
          counts.doneUpstream += 1;
        }
        counts.total += 1;
        if (state.status === 'new') counts.new += 1;
        else if (state.status === 'done') counts.done += 1;
        else counts.changed += 1;
        if (state.inputs_changed) counts.inputsChanged += 1;
        const replacing = rerunChanged && state.inputs_changed;
        // The cap counts only what would run, so a rerun with the same cap moves on to the next tasks.
        let willRun = false;
        if (state.status === 'new' || request.force || replacing) {
          counts.runnable += 1;
          willRun = cap === undefined || counts.toRun < cap;
        }
        if (willRun) {
          counts.toRun += 1;
          // The job replaces this task's record even without --force (src/storage/task-commit.ts).
          if (replacing) task.replace_record = true;
          toRun.push(task);
          if (task.analysis.pool) pools.add(task.analysis.pool);
        }
        return {
          task,
          status: state.status,
          inputs_changed: state.inputs_changed,
          ...(upstreamRecord !== undefined ? { upstream_record: upstreamRecord } : {}),
          will_run: willRun,
        };
      });
      // Folder inputs of the tasks to run are listed by their runs, as they start (fingerprintAtRun):
      // what a record keeps is its inputs as the analysis read them, and planning lists nothing new.
      fingerprintListedFiles(toRun, facts);
      for (const task of toRun) {
        job.push(task);
        if (job.length === request.tasks_per_job) {
          await addJob(job);
          job = [];
        }
      }
      context.beat();
      return settled;
    },
    /** The last job; the page layout of the plan. */
    async finish(): Promise<number> {
      if (job.length > 0) await addJob(job);
      job = [];
      return context.writer ? (await context.writer.finish()).jobs_per_page : layout.jobsPerPage();
    },
  };
}

/**
 * Which inputs changed, for a preview to show: the fingerprint lists of just the records whose
 * digest differed, in one read (the status read took only their digests).
 */
async function nameChangedInputs(records: Collection<StoredRecord>, planned: PlannedTask[]): Promise<void> {
  const changed = new Map(
    planned.filter((entry) => entry.inputs_changed).map((entry) => [entry.task.hash, entry]),
  );
  const cursor = records.find(
    { _id: { $in: [...changed.keys()] } },
    { projection: { _id: 1, input_fingerprints: 1 } },
  );
  try {
    for await (const record of cursor) {
      const entry = changed.get(record._id);
      const recorded = 'input_fingerprints' in record ? record.input_fingerprints : undefined;
      if (entry) entry.changed_inputs = changedInputs(recorded, entry.task.input_fingerprints);
    }
  } finally {
    await cursor.close();
  }
}

/**
 * Every task (and so every job's input and record) would carry a copy of the query: one of
 * 100,000 ids is 3 MiB, past what a Temporal payload may hold. Longer ones stay with the request.
 */
export const QUERY_IN_TASK_MAX = 16 * 1024;

function queryForTasks(request: DispatchRequest, warn: (message: string) => void): string | undefined {
  if (!request.query) return undefined;
  const query = JSON.stringify(request.query);
  if (query.length <= QUERY_IN_TASK_MAX) return query;
  warn(
    `the query is ${(query.length / 1024).toFixed(0)} KiB, more than the ${QUERY_IN_TASK_MAX / 1024} KiB a task carries: tasks and records name no query (the dispatch's request keeps it)`,
  );
  return undefined;
}

/** Consecutive jobs of `tasksPerJob` tasks, the last one possibly smaller. */
export function splitIntoJobs(tasks: Task[], tasksPerJob: number): Task[][] {
  const jobs: Task[][] = [];
  for (let start = 0; start < tasks.length; start += tasksPerJob)
    jobs.push(tasks.slice(start, start + tasksPerJob));
  return jobs;
}
