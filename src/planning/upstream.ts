/**
 * Records of the institute's current analysis wrapper count as done. A spec naming that code
 * (`upstream_code`) takes a record whose Analysis process has that code URL and version, the
 * task's input locations and its parameters as the wrapper records them, as the match
 * analysis-pipeline-utils' `get_docdb_records_partial` makes; so cutting over reruns nothing.
 */
import type { Filter } from 'mongodb';
import { canonicalJson } from '../identity';
import type { StoredRecord, Task, UpstreamCode } from '../types';
import type { RecordReader } from './task-status';

/** Where the wrapper's records hold their analysis code (the first process, as its queries read it). */
const CODE = 'processing.data_processes.0.code';

/** The parts of a wrapper's record the match reads. */
interface UpstreamCodeFields {
  url?: unknown;
  version?: unknown;
  input_data?: { url?: unknown }[];
  parameters?: unknown;
}

/**
 * The parameters as the wrapper records them: the merged parameters with `analysis_name` (the
 * analysis's, unless they set one), and a per-file task's `file_location`.
 */
export function upstreamParameters(task: Task): Record<string, unknown> {
  const parameters: Record<string, unknown> = { analysis_name: task.analysis.analysis_name };
  // Assigned key by key: a spread would drop a parameter named `__proto__`.
  for (const [key, value] of Object.entries(task.parameters)) parameters[key] = value;
  if (task.input.file_location.length > 0) parameters.file_location = task.input.file_location;
  return parameters;
}

/** The same code, inputs in any order, parameters in any key order: one key. */
function matchKey(code: { url: unknown; version: unknown }, inputs: unknown[], parameters: unknown): string {
  const locations = [...new Set(inputs.map(String))].sort();
  return canonicalJson({ url: code.url, version: code.version, inputs: locations, parameters });
}

function taskKey(task: Task, code: UpstreamCode): string {
  return matchKey(code, task.input.s3_location, upstreamParameters(task));
}

function recordKey(code: UpstreamCodeFields): string | undefined {
  if (typeof code.url !== 'string' || typeof code.version !== 'string') return undefined;
  if (code.parameters === null || typeof code.parameters !== 'object') return undefined;
  const inputs = (code.input_data ?? []).map((asset) => asset?.url);
  if (inputs.some((url) => typeof url !== 'string')) return undefined;
  return matchKey({ url: code.url, version: code.version }, inputs, code.parameters);
}

/**
 * Finds the wrapper's record of each task that has one, reading along with planning's one
 * streamed read of the records (FerretDB scans per lookup, so neither a query per task nor a
 * read of its own), and matching in memory. Only tasks of specs naming `upstream_code` are
 * looked for.
 */
export class UpstreamIndex implements RecordReader {
  readonly projection: Record<string, 1> = {
    'processing.data_processes.code.url': 1,
    'processing.data_processes.code.version': 1,
    'processing.data_processes.code.input_data.url': 1,
    'processing.data_processes.code.parameters': 1,
  };
  readonly filter?: Filter<StoredRecord>;
  /** Match key to the hashes of the tasks it stands for: strings, not tasks, so a plan streams. */
  private readonly wanted = new Map<string, string[]>();
  /** Task hash to the `_id` of the wrapper's record. */
  private readonly found = new Map<string, string>();

  constructor(tasks: Iterable<Task>) {
    const codes = new Map<string, UpstreamCode>();
    for (const task of tasks) {
      const code = task.analysis.upstream_code;
      if (!code) continue;
      codes.set(canonicalJson(code), code);
      const key = taskKey(task, code);
      const hashes = this.wanted.get(key);
      if (hashes) hashes.push(task.hash);
      else this.wanted.set(key, [task.hash]);
    }
    if (codes.size > 0)
      this.filter = {
        $or: [...codes.values()].map((code) => ({
          [`${CODE}.url`]: code.url,
          [`${CODE}.version`]: code.version,
        })),
      } as Filter<StoredRecord>;
  }

  add(record: StoredRecord): void {
    if (this.wanted.size === 0) return;
    const processes = (record as { processing?: { data_processes?: { code?: UpstreamCodeFields }[] } })
      .processing?.data_processes;
    const code = processes?.[0]?.code;
    const key = code && recordKey(code);
    for (const hash of (key && this.wanted.get(key)) || [])
      if (!this.found.has(hash)) this.found.set(hash, record._id);
  }

  /** The `_id` of the wrapper's record of this task, if it has one. */
  recordOf(task: Task): string | undefined {
    return this.found.get(task.hash);
  }
}
