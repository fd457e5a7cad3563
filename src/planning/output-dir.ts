import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Task } from '../types';

/** A planned task in the original dispatcher's file shape, plus what this tool adds. */
export function originalShape(task: Task) {
  return {
    s3_location: task.input.s3_location,
    location_asset_id: task.input.docdb_record_id,
    file_extension_locations: task.input.file_location.length ? task.input.file_location : null,
    asset_name: task.input.asset_name,
    analysis_spec: task.analysis,
    parameters: task.parameters,
    hash: task.hash,
  };
}

/**
 * Writes each planned task as `DIR/worker_<n>/<uuid>.json`, dealt round-robin over the worker
 * folders as the original dispatcher's consumers expect. Returns the number of files written.
 */
export async function writeOutputDir(
  dir: string,
  jobs: AsyncIterable<{ index: number; tasks: Task[] }>,
  numWorkers: number,
): Promise<number> {
  const created = new Set<number>();
  let written = 0;
  for await (const { tasks } of jobs) {
    for (const task of tasks) {
      const worker = written % numWorkers;
      const folder = join(dir, `worker_${worker}`);
      if (!created.has(worker)) {
        await mkdir(folder, { recursive: true });
        created.add(worker);
      }
      await writeFile(
        join(folder, `${randomUUID()}.json`),
        `${JSON.stringify(originalShape(task), null, 2)}\n`,
      );
      written += 1;
    }
  }
  return written;
}
