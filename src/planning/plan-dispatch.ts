import type { S3Client } from '@aws-sdk/client-s3';
import type { Collection } from 'mongodb';
import type { AnalysisRegistry } from '../analysis/definition';
import { withRunPolicy } from '../analysis/run-policy';
import { InputError } from '../errors';
import { changedInputs, type ChangedInput } from '../input-digest';
import type { AnalysisSpec, DispatchRequest, PlanSummary, StoredRecord, Task, TaskStatus } from '../types';
import { checkOutputBuckets } from './buckets';
import { discoverFiles } from './discover';
import { expandTasks } from './expand';
import { fingerprintListedFiles, fingerprintTasks, type ObjectFacts } from './fingerprint';
import { levels, type PlanLog } from './log';
import { checkParameterSets } from './parameters';
import { selectAssets, type SelectedAsset } from './select';
import { readRecorded, taskStates, type RecordReader } from './task-status';
import { UpstreamIndex } from './upstream';
import { jobsPerPage, type PlanStore } from '../storage/plan-store';
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
  /** Every task with its status, for `plan --json`; held in memory by the CLI, never by a workflow. */
  tasks: PlannedTask[];
}

/**
 * Everything a dispatch will do, checked before any of it is written: inputs, parameters and
 * buckets first, so a bad request leaves nothing behind. Jobs are saved only when `store` is set.
 */
export async function planDispatch(
  deps: PlanDeps,
  requested: DispatchRequest,
  dispatchId: string,
  opts: { store: boolean },
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
  for await (const asset of selection) {
    assets.push(asset);
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
  const expansion = expandTasks({ assets, files, request, libraries });
  // What the records and the analyses' task files say of the dispatch as a whole.
  const query = queryForTasks(request, report.warn);
  for (const task of expansion.tasks) {
    if (query !== undefined) task.query = query;
    if (request.experimenters?.length) task.experimenters = request.experimenters;
  }
  expansion.warnings.forEach(report.warn);
  beat();

  // Records of the wrapper code specs name (`upstream_code`) come in the same read.
  const upstreamIndex = new UpstreamIndex(expansion.tasks);
  const recorded = await readRecorded(
    deps.records,
    expansion.tasks,
    deps.recordReader?.(expansion.tasks),
    upstreamIndex,
  );
  // Files' facts came with discovery; folder-shaped inputs (asset prefixes, zarr stores) need
  // listings of their own, so here only those of tasks whose record kept fingerprints to compare
  // with are listed. Records made before fingerprints were kept cost no listing.
  const fingerprintingStarted = Date.now();
  const folders = await fingerprintTasks(
    deps.s3,
    expansion.tasks.filter((task) => recorded.get(task.hash)?.digest !== undefined),
    facts,
    { onListed: beat, warn: report.warn },
  );
  if (folders > 0) info(`fingerprinted ${folders} input folders in ${Date.now() - fingerprintingStarted} ms`);
  const states = await taskStates(recorded, expansion.tasks, (spec) => deps.codeCommit(spec));
  // A task without a record of its own may have one by the wrapper its spec names.
  const upstream = new Map<string, string>();
  for (const [index, task] of expansion.tasks.entries()) {
    const record = states[index]?.status === 'new' ? upstreamIndex.recordOf(task) : undefined;
    if (record === undefined) continue;
    upstream.set(task.hash, record);
    states[index] = { status: 'done', inputs_changed: false };
  }
  if (upstream.size > 0) info(`found ${upstream.size} tasks done by the wrapper code their specs name`);
  const statuses = states.map((state) => state.status);
  const count = (status: TaskStatus) => statuses.filter((value) => value === status).length;
  const changed = count('changed_code');
  if (changed && !request.force) {
    report.warn(
      `${changed} tasks have a record made by different code: bump analysis_version, or pass --force to rerun them`,
    );
  }
  const inputsChanged = states.filter((state) => state.inputs_changed).length;
  const rerunChanged = request.rerun_changed_inputs === true;
  if (inputsChanged && !rerunChanged && !request.force) {
    report.warn(
      `${inputsChanged} done tasks have an input that changed since their record: pass --rerun_changed_inputs 1 to rerun them`,
    );
  }
  // The cap counts only what would run, so a rerun with the same cap moves on to the next tasks.
  const replacing = new Set(
    rerunChanged ? expansion.tasks.filter((_, index) => states[index]?.inputs_changed) : [],
  );
  const runnable = expansion.tasks.filter(
    (task, index) => statuses[index] === 'new' || request.force || replacing.has(task),
  );
  const capped = capTasks(runnable, request.max_number_of_tasks_dispatched);
  const toRun = capped.tasks;
  // The job replaces these tasks' records even without --force (src/storage/task-commit.ts).
  for (const task of toRun) if (replacing.has(task)) task.replace_record = true;
  // Folder inputs of the tasks to run are listed by their runs, as they start (fingerprintAtRun):
  // what a record keeps is its inputs as the analysis read them, and planning lists nothing new.
  fingerprintListedFiles(toRun, facts);
  const running = new Set(toRun);
  const tasks: PlannedTask[] = expansion.tasks.map((task, index) => ({
    task,
    status: statuses[index] as TaskStatus,
    inputs_changed: states[index]?.inputs_changed === true,
    ...(upstream.has(task.hash) ? { upstream_record: upstream.get(task.hash) } : {}),
    will_run: running.has(task),
  }));
  if (inputsChanged && !opts.store) await nameChangedInputs(deps.records, tasks);
  // A pool nobody serves is no error: its tasks wait on their queue until a worker of it starts.
  const pools = [...new Set(toRun.flatMap((task) => (task.analysis.pool ? [task.analysis.pool] : [])))];
  if (pools.length > 0 && deps.poolWarnings) (await deps.poolWarnings(pools)).forEach(report.warn);
  const jobs = splitIntoJobs(toRun, request.tasks_per_job);
  const perPage = opts.store ? (await deps.store.save(dispatchId, jobs)).jobs_per_page : jobsPerPage(jobs);

  const summary: PlanSummary = {
    plan_id: dispatchId,
    assets: assets.length,
    assets_without_location: selection.stats.withoutLocation,
    assets_without_files: expansion.assets_without_files,
    tasks_total: tasks.length,
    tasks_new: count('new'),
    tasks_done: count('done'),
    ...(upstream.size > 0 ? { tasks_done_upstream: upstream.size } : {}),
    tasks_changed_code: changed,
    tasks_changed_inputs: inputsChanged,
    tasks_to_run: toRun.length,
    ...(capped.capped_from !== undefined ? { capped_from: capped.capped_from } : {}),
    jobs: jobs.length,
    jobs_per_page: perPage,
    warnings: report.list(),
  };
  info(`planned ${summary.tasks_to_run} of ${summary.tasks_total} tasks in ${summary.jobs} jobs`);
  return { summary, tasks };
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

/** The first `cap` tasks (in plan order), and how many there were when the cap cut the list. */
export function capTasks(tasks: Task[], cap: number | undefined): { tasks: Task[]; capped_from?: number } {
  if (cap === undefined || tasks.length <= cap) return { tasks };
  return { tasks: tasks.slice(0, cap), capped_from: tasks.length };
}

/** Consecutive jobs of `tasksPerJob` tasks, the last one possibly smaller. */
export function splitIntoJobs(tasks: Task[], tasksPerJob: number): Task[][] {
  const jobs: Task[][] = [];
  for (let start = 0; start < tasks.length; start += tasksPerJob)
    jobs.push(tasks.slice(start, start + tasksPerJob));
  return jobs;
}
