/**
 * Records in the institute's format: an aind-data-schema `Metadata` document whose `processing`
 * holds one "Analysis" `DataProcess`, as their own analysis records are, so their result-access
 * tools (which filter on `processing.data_processes.code.parameters.analysis_name` and read
 * `location`) and portals read what this project writes. Checked against the pinned release by
 * the tests, with the institute's own package.
 */
import { inputDigest } from '../input-digest';
import type { RunResult } from '../task-record';
import type {
  AindCode,
  AindContainer,
  AindDataProcess,
  AnalysisRecord,
  FlatAnalysisRecord,
  RunResources,
  StoredRecord,
  Task,
} from '../types';

/** What a record takes of a run: everything its result says but how it stands for the files. */
export type RunFacts = Omit<RunResult, 'result_files'>;

/** aind-data-schema 2.9.2: its `schema_version` fields are literals, so a record names exactly these. */
export const AIND_DATA_SCHEMA_RELEASE = '2.9.2';
export const METADATA_SCHEMA_VERSION = '2.7.6';
export const PROCESSING_SCHEMA_VERSION = '2.3.3';

/** What ran, as the worker that ran it knows it. */
export interface SoftwareFacts {
  /** Repository of the analysis code; a `file:` URL of the worker's checkout when it has no remote. */
  url: string;
  run_script: string;
  language: string;
  language_version?: string;
  /** The image a container analysis ran in, by the reference its manifest gave and its digest. */
  container?: { image: string; digest: string };
}

/** The machine a run used, for the schema's `ResourceUsage`. */
export interface MachineFacts {
  os: string;
  architecture: string;
  cpu?: string;
  cpu_cores?: number;
  system_memory_gib?: number;
}

const COMMIT_HASH = /^[0-9a-fA-F]{7,60}$/;

/** The merged parameters with the analysis's name and version, which the institute's queries use. */
export function codeParameters(task: Task): Record<string, unknown> {
  return {
    ...task.parameters,
    analysis_name: task.analysis.analysis_name,
    analysis_version: task.analysis.analysis_version,
  };
}

/** The schema's `Code` of a task's analysis, from what is known of it where this is called. */
export function analysisCode(task: Task, software?: SoftwareFacts, commit?: string): AindCode {
  return {
    object_type: 'Code',
    url: software?.url ?? 'unknown',
    name: task.analysis.analysis_name,
    version: task.analysis.analysis_version,
    ...(commit && COMMIT_HASH.test(commit) ? { commit_hash: commit } : {}),
    ...(software ? { run_script: software.run_script, language: software.language } : {}),
    ...(software?.language_version ? { language_version: software.language_version } : {}),
    ...(software?.container ? { container: containerOf(software.container) } : {}),
    input_data: task.input.s3_location.map((url, i) => ({
      object_type: 'Data asset' as const,
      ...(task.input.asset_name[i] ? { name: task.input.asset_name[i] } : {}),
      url,
    })),
    parameters: codeParameters(task),
  };
}

/**
 * The schema's `Container`: `uri` pins the image by digest (pullable wherever its registry is
 * reachable), `tag` is the one the manifest named.
 */
function containerOf({ image, digest }: { image: string; digest: string }): AindContainer {
  const repository = image.replace(/@.*$/, '').replace(/:([\w][\w.-]*)$/, '');
  const tag = /:([\w][\w.-]*)$/.exec(image.replace(/@.*$/, ''))?.[1];
  return {
    object_type: 'Container',
    container_type: 'OCI',
    tag: tag ?? (image.includes('@') ? digest : 'latest'),
    uri: `${repository}@${digest}`,
  };
}

function processNotes(task: Task, dispatchId: string): string {
  const selection = task.query ? `assets selected by the query ${task.query}` : 'assets listed in a CSV';
  const group = task.group ? `; group ${JSON.stringify(task.group)}` : '';
  return `Dispatch ${dispatchId}: ${selection}${group}`;
}

/** The schema's `ResourceUsage`: the machine, and the run's CPU and peak memory as percentages of it. */
function resourceUsage(run: RunFacts): Record<string, unknown> | undefined {
  const machine = run.machine;
  if (!machine) return undefined;
  const measured = run.resources;
  const at = run.finished_at;
  const percent = (value: number) => Math.round(value * 10_000) / 100;
  const usage = (value: number | undefined) =>
    value === undefined ? undefined : [{ object_type: 'Resource timestamped', timestamp: at, usage: value }];
  const cpu =
    measured?.cpu_time_s !== undefined && measured.wall_time_s > 0 && machine.cpu_cores
      ? usage(percent(measured.cpu_time_s / measured.wall_time_s / machine.cpu_cores))
      : undefined;
  const ram =
    measured?.peak_memory_mib !== undefined && machine.system_memory_gib
      ? usage(percent(measured.peak_memory_mib / 1024 / machine.system_memory_gib))
      : undefined;
  return {
    object_type: 'Resource usage',
    os: machine.os,
    architecture: machine.architecture,
    ...(machine.cpu ? { cpu: machine.cpu } : {}),
    ...(machine.cpu_cores ? { cpu_cores: machine.cpu_cores } : {}),
    // The schema asks a unit of every memory field, ram_usage included (whose values are percents).
    ...(machine.system_memory_gib
      ? {
          system_memory: machine.system_memory_gib,
          system_memory_unit: 'Gigabyte',
          ram: machine.system_memory_gib,
          ram_unit: 'Gigabyte',
        }
      : {}),
    ...(cpu ? { cpu_usage: cpu } : {}),
    ...(ram ? { ram_usage: ram } : {}),
    usage_unit: 'percent',
  };
}

/**
 * The record of a finished task. Built from the task, its run and the run's result files alone,
 * so the copy uploaded as `metadata.nd.json` and the one written to the database are the same
 * document. Its fields and their order are those of earlier versions, so that a copy uploaded by
 * a worker of an earlier version is recognised by a commit of this one.
 */
export function buildRecord(task: Task, run: RunFacts, dispatchId: string, files: string[]): AnalysisRecord {
  const name = task.analysis.analysis_name;
  const resources = resourceUsage(run);
  // Fingerprints the plan had (files it listed, or inputs compared with an earlier record), else
  // those the run took as it started.
  const fingerprints = task.input_fingerprints ?? run.input_fingerprints;
  const digest = inputDigest(fingerprints);
  const process: AindDataProcess = {
    object_type: 'Data process',
    process_type: 'Analysis',
    stage: 'Analysis',
    name,
    code: analysisCode(task, run.software, run.code.commit),
    // Never empty: the schema requires someone, and tasks planned by earlier versions name nobody.
    experimenters: task.experimenters?.length ? task.experimenters : [run.worker_user ?? 'unknown'],
    start_date_time: run.started_at,
    end_date_time: run.finished_at,
    output_parameters: run.outputs,
    notes: processNotes(task, dispatchId),
    ...(resources ? { resources } : {}),
  };
  return {
    _id: task.hash,
    object_type: 'Metadata',
    schema_version: METADATA_SCHEMA_VERSION,
    name: task.hash,
    location: task.location,
    processing: {
      object_type: 'Processing',
      schema_version: PROCESSING_SCHEMA_VERSION,
      data_processes: [process],
      dependency_graph: { [name]: [] },
    },
    analysis_name: name,
    analysis_version: task.analysis.analysis_version,
    input: task.input,
    code: run.code,
    libraries: task.libraries,
    dispatch_id: dispatchId,
    worker_host: run.worker_host,
    files,
    ...(run.resources ? { run_resources: run.resources } : {}),
    // Top level, beside the schema's fields: `Metadata` ignores unknown ones there, `Code` would not.
    ...(digest ? { input_fingerprints: fingerprints, input_digest: digest } : {}),
  };
}

const isFlat = (record: StoredRecord): record is FlatAnalysisRecord => !('processing' in record);

/** What `results` shows of a record, from either format. */
export function recordFacts(record: StoredRecord): {
  parameters: Record<string, unknown>;
  outputs: Record<string, unknown>;
  started_at?: string;
  finished_at?: string;
  resources?: RunResources;
} {
  if (isFlat(record))
    return {
      parameters: record.parameters ?? {},
      outputs: record.outputs ?? {},
      started_at: record.started_at,
      finished_at: record.finished_at,
    };
  const process = record.processing.data_processes[0];
  const { analysis_name: _name, analysis_version: _version, ...parameters } = process?.code.parameters ?? {};
  return {
    parameters,
    outputs: process?.output_parameters ?? {},
    started_at: process?.start_date_time,
    finished_at: process?.end_date_time,
    ...(record.run_resources ? { resources: record.run_resources } : {}),
  };
}
