import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dispatchFields } from '../aind/dispatch-model';
import type { AindCode, Task } from '../types';

/**
 * A planned task as the institute's current dispatcher writes it (`AnalysisDispatchModel`), with
 * the original dispatcher's and this project's own fields beside it (the model ignores them).
 */
export function jobFile(task: Task, code: AindCode) {
  return {
    ...dispatchFields(task, code),
    location_asset_id: task.input.docdb_record_id,
    file_extension_locations: task.input.file_location.length ? task.input.file_location : null,
    analysis_spec: task.analysis,
    parameters: task.parameters,
    hash: task.hash,
    location: task.location,
  };
}

export interface OutputDirOptions {
  numWorkers: number;
  tasksPerJob: number;
  /** The analysis code of a task, as its `analysis_code`. */
  codeOf: (task: Task) => Promise<AindCode>;
}

/**
 * Writes each planned task as a JSON file. One task per job: `DIR/worker_<n>/<uuid>.json`, dealt
 * round-robin over the worker folders as the original dispatcher's consumers expect. Several
 * tasks per job: `DIR/<job_index>/<uuid>.json`, one folder per job, as the current upstream
 * dispatcher writes them. Returns the number of files written.
 */
export async function writeOutputDir(
  dir: string,
  jobs: AsyncIterable<{ index: number; tasks: Task[] }>,
  options: OutputDirOptions,
): Promise<number> {
  const created = new Set<string>();
  let written = 0;
  for await (const { index, tasks } of jobs) {
    for (const task of tasks) {
      const folder = join(
        dir,
        options.tasksPerJob > 1 ? String(index) : `worker_${written % options.numWorkers}`,
      );
      if (!created.has(folder)) {
        await mkdir(folder, { recursive: true });
        created.add(folder);
      }
      const file = jobFile(task, await options.codeOf(task));
      await writeFile(join(folder, `${randomUUID()}.json`), `${JSON.stringify(file, null, 2)}\n`);
      written += 1;
    }
  }
  return written;
}
