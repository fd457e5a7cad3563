/**
 * Shapes shared by the CLI, activities and workflows. Plain data only: these cross
 * Temporal's payload boundary, so no classes, Dates or functions.
 */

/** One entry of an `--analysis_spec` file, after validation and defaults. */
export interface AnalysisSpec {
  analysis_name: string;
  analysis_version: string;
  analysis_libraries: string[];
  analysis_parameters: Record<string, unknown>;
  /** `bucket[/prefix]`; filled from ANALYSIS_BUCKET when the file names none. */
  s3_output_bucket?: string;
  /** Argument vector of a command analysis; absent for a registered TypeScript analysis. */
  command?: string[];
  /**
   * Command analyses: what to download into `$ANALYSIS_INPUT_DIR` before running. `true`: the
   * task's files (`--file_extension`); a list: these paths under every asset of the task.
   */
  download_inputs?: boolean | string[];
  /** Per-attempt time limit, e.g. "30 minutes" (Temporal duration string). */
  timeout?: string;
  /** Attempts of the run step before the task fails. */
  max_attempts?: number;
  /**
   * Worker pool whose workers run it, from the analysis's registration (never from a spec file);
   * absent: the default pool.
   */
  pool?: string;
  /** The wrapper code whose records of the same inputs and parameters count as done (src/planning/upstream.ts). */
  upstream_code?: UpstreamCode;
}

/** Code of the institute's current wrapper, as its records' Analysis process names it. */
export interface UpstreamCode {
  url: string;
  version: string;
}

/** Where a task's data comes from; arrays so that a grouped task carries every member. */
export interface TaskInput {
  s3_location: string[];
  asset_name: string[];
  docdb_record_id: string[];
  file_location: string[];
}

/** One unit of analysis: one spec x one parameter set x one asset, file or group. */
export interface Task {
  /** Identity hash (see identity.ts). */
  hash: string;
  analysis: AnalysisSpec & { s3_output_bucket: string };
  /** Merged parameters: spec, then fixed, then this task's distributed entry. */
  parameters: Record<string, unknown>;
  input: TaskInput;
  /** Installed versions of `analysis_libraries`, part of the identity. */
  libraries: Record<string, string>;
  /** Values of the `--group_by` fields, when grouping. */
  group?: Record<string, unknown>;
  /** This task's entry of `distributed_parameters` (already merged into `parameters`). */
  distributed_parameters?: Record<string, unknown>;
  /** The asset query of the dispatch as JSON; absent when assets came from a CSV. */
  query?: string;
  /** Who ran the dispatch (ANALYSIS_EXPERIMENTERS); absent in tasks planned by earlier versions. */
  experimenters?: string[];
  /** `s3://<s3_output_bucket>/<hash>` */
  location: string;
  /**
   * What identified each input when the task was planned, written into its record; not part of
   * the identity. Absent in tasks planned by earlier versions.
   */
  input_fingerprints?: InputFingerprint[];
  /** Set when the task reruns because an input changed since its record: the record is replaced. */
  replace_record?: boolean;
}

/**
 * What identifies one input's content without reading it: a file's ETag and size, or, for a
 * folder (an asset prefix, a zarr store), a digest of its listing (sorted keys, ETags and sizes).
 */
export interface InputFingerprint {
  url: string;
  /** Bytes: of the file, or of every object of the folder. */
  size: number;
  etag?: string;
  /** Folders: objects listed, and the sha256 of the listing. */
  objects?: number;
  digest?: string;
}

export interface CodeProvenance {
  repository?: string;
  commit?: string;
  dirty?: boolean;
}

/**
 * How a dispatch runs its jobs, as the user asked: carried by the request, by a retry, in the run
 * state and in the progress answer, always in this one shape.
 */
export interface DispatchSettings {
  num_parallel_workers: number;
  tasks_per_job: number;
  dry_run: boolean;
  force: boolean;
  /** Failed tasks tolerated, as a share of the tasks to run (0-100) or a count; none: none. */
  tolerated_failure_percent?: number;
  tolerated_failure_count?: number;
  /**
   * Task queue priority of every job and step, 1 (first) to 5; absent in dispatches of earlier
   * versions, which ran at the server's default (3).
   */
  priority?: number;
  /** Dispatches with different keys take turns on a shared queue; absent in earlier versions. */
  fairness_key?: string;
}

/** Everything a dispatch was asked to do; contents of the user's files, never paths or secrets. */
export interface DispatchRequest extends DispatchSettings {
  query?: Record<string, unknown>;
  asset_ids?: string[];
  asset_id_field: string;
  file_extension?: string;
  split_files: boolean;
  group_by: string[];
  /** Keeps, of the selected assets, only the newest by this field within each `filter_by` group. */
  filter_latest?: string;
  filter_by?: string[];
  /** List fields each of whose values is a group membership of its own (a scalar is a list of one). */
  unwind_list_fields?: string[];
  /**
   * Leaves out assets that have no value for a `group_by` (or `filter_by`) field; false groups them
   * under null. Absent in requests of earlier versions, which grouped them under null.
   */
  drop_null_groups?: boolean;
  specs: AnalysisSpec[];
  fixed_parameters: Record<string, unknown>;
  distributed_parameters: Record<string, unknown>[];
  max_number_of_tasks_dispatched?: number;
  /** Reruns the done tasks whose inputs changed since their record, replacing it. */
  rerun_changed_inputs?: boolean;
  /** Who runs the dispatch; absent in requests of earlier versions. */
  experimenters?: string[];
}

/** What planning found; small and bounded, so it may live in workflow history. */
export interface PlanSummary {
  plan_id: string;
  assets: number;
  assets_without_location: number;
  assets_without_files: number;
  tasks_total: number;
  tasks_new: number;
  tasks_done: number;
  tasks_changed_code: number;
  /** Of `tasks_done`, those done by the wrapper code their spec names (`upstream_code`); absent: none. */
  tasks_done_upstream?: number;
  /** Done tasks (of either kind) with an input that changed since their record; absent before. */
  tasks_changed_inputs?: number;
  /** Tasks that will run (new, plus done and changed ones under --force). */
  tasks_to_run: number;
  /**
   * Set when --max_number_of_tasks_dispatched cut the list: how many tasks would have run without
   * it (tasks already done are never counted, so a rerun with the same cap moves on).
   */
  capped_from?: number;
  jobs: number;
  /** Jobs stored per plan page; the page of job i is floor(i / jobs_per_page). */
  jobs_per_page: number;
  /** First warnings only (ids that matched nothing, assets skipped, ...). */
  warnings: string[];
}

export type TaskStatus = 'new' | 'done' | 'changed_code';

/** The fields every record has, whatever its format: what the project itself queries and reads. */
interface RecordBase {
  _id: string;
  name: string;
  location: string;
  analysis_name: string;
  analysis_version: string;
  input: TaskInput;
  /** Provenance of the code that ran; `commit` decides "done by different code". */
  code: CodeProvenance;
  libraries: Record<string, string>;
  dispatch_id: string;
  worker_host: string;
  files: string[];
}

/** A record as earlier versions wrote it: flat, in the project's own shape. */
export interface FlatAnalysisRecord extends RecordBase {
  parameters: Record<string, unknown>;
  outputs: Record<string, unknown>;
  started_at: string;
  finished_at: string;
}

/**
 * A record as written now: an aind-data-schema `Metadata` document (see src/aind/metadata.ts) with
 * the project's own fields beside it, which `Metadata` ignores.
 */
export interface AnalysisRecord extends RecordBase {
  object_type: 'Metadata';
  schema_version: string;
  processing: AindProcessing;
  /** What the run measured, in plain units (the schema's ResourceUsage has no field for them). */
  run_resources?: RunResources;
  /** What identified the task's inputs when it was planned; absent in older records. */
  input_fingerprints?: InputFingerprint[];
  /** sha256 of `input_fingerprints`, what planning compares (src/input-digest.ts). */
  input_digest?: string;
}

/** Either format: what the records collection holds. */
export type StoredRecord = AnalysisRecord | FlatAnalysisRecord;

/** What a run measured; CPU time and peak memory only where the platform tells (commands on Linux). */
export interface RunResources {
  wall_time_s: number;
  cpu_time_s?: number;
  peak_memory_mib?: number;
  /** Bytes of the result files the run wrote; absent in records of earlier versions. */
  output_bytes?: number;
}

/** aind-data-schema `Code`, as JSON. */
export interface AindCode {
  object_type: 'Code';
  url: string;
  name?: string;
  version?: string;
  commit_hash?: string;
  run_script?: string;
  language?: string;
  language_version?: string;
  container?: AindContainer;
  input_data?: Array<{ object_type: 'Data asset'; name?: string; url: string }>;
  parameters?: Record<string, unknown>;
}

/** aind-data-schema `Container`: the image a container analysis ran in. */
export interface AindContainer {
  object_type: 'Container';
  container_type: string;
  tag: string;
  uri: string;
}

/** aind-data-schema `Processing` with one "Analysis" `DataProcess`, as JSON. */
export interface AindProcessing {
  object_type: 'Processing';
  schema_version: string;
  data_processes: AindDataProcess[];
  dependency_graph: Record<string, string[]>;
  notes?: string;
}

export interface AindDataProcess {
  object_type: 'Data process';
  process_type: 'Analysis';
  stage: 'Analysis';
  name: string;
  code: AindCode;
  experimenters: string[];
  start_date_time: string;
  end_date_time: string;
  output_parameters: Record<string, unknown>;
  notes?: string;
  resources?: Record<string, unknown>;
}
