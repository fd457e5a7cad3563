/**
 * Tasks in the shape of the institute's current dispatcher (`AnalysisDispatchModel` of
 * analysis-pipeline-utils), so that analyses written for their wrapper's
 * `run_analysis(job, parameters)` read a task of this project unchanged, and so that the files
 * `--output_dir` writes load with their model. The project's own task fields stay beside them.
 */
import type { AindCode, Task } from '../types';

export interface AnalysisDispatchFields {
  s3_location: string[];
  asset_name: string[];
  docdb_record_id: string[];
  /** Null when the task reads whole assets rather than files. */
  file_location: string[] | null;
  distributed_parameters: Record<string, unknown> | null;
  /** The group's field values, dotted names written with `__` as upstream writes them. */
  group_metadata: Record<string, unknown> | null;
  /** The asset query as JSON; null for a CSV selection. */
  query: string | null;
  /** `parameters` holds the merged parameters with `analysis_name` and `analysis_version`. */
  analysis_code: AindCode;
}

/** What an analysis receives: the project's task with the upstream model's fields. */
export type AnalysisTask = Omit<Task, 'distributed_parameters' | 'query'> & AnalysisDispatchFields;

export function groupMetadata(group: Record<string, unknown> | undefined): Record<string, unknown> | null {
  if (!group) return null;
  return Object.fromEntries(
    Object.entries(group).map(([field, value]) => [field.replaceAll('.', '__'), value]),
  );
}

export function dispatchFields(task: Task, code: AindCode): AnalysisDispatchFields {
  return {
    s3_location: task.input.s3_location,
    asset_name: task.input.asset_name,
    docdb_record_id: task.input.docdb_record_id,
    file_location: task.input.file_location.length ? task.input.file_location : null,
    distributed_parameters: task.distributed_parameters ?? null,
    group_metadata: groupMetadata(task.group),
    query: task.query ?? null,
    analysis_code: code,
  };
}

export function analysisTask(task: Task, code: AindCode): AnalysisTask {
  return { ...task, ...dispatchFields(task, code) };
}
