import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { aindPython } from './aind';
import { ROOT } from './stack';

/** One job of the institute's current wrapper, as its capsule ran it. */
export interface WrapperJob {
  /** The capsule's code URL and version, as Code Ocean's API gives them to the wrapper. */
  url: string;
  version: string;
  name: string;
  /** `bucket[/prefix]` its results went to. */
  bucket: string;
  /** The job's task in the `AnalysisDispatchModel` shape (analysis-pipeline-utils). */
  dispatch: Record<string, unknown>;
  output_parameters?: Record<string, unknown>;
}

/**
 * The records the wrapper would have written for these jobs, made by analysis-pipeline-utils'
 * own functions in the project's venv (test/helpers/wrapper_records.py).
 */
export function wrapperRecords(jobs: WrapperJob[]): Array<Record<string, unknown> & { _id: string }> {
  if (jobs.length === 0) return [];
  const output = execFileSync(aindPython(), [join(ROOT, 'test', 'helpers', 'wrapper_records.py')], {
    input: jobs.map((job) => JSON.stringify(job)).join('\n'),
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return output
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown> & { _id: string });
}

/** What analysis-pipeline-utils' `get_docdb_records_partial` asks the database for these arguments. */
export function wrapperQuery(args: {
  code_url: string;
  code_version: string;
  input_data_locations: string[];
  parameters: Record<string, unknown>;
}): Record<string, unknown> {
  const output = execFileSync(aindPython(), [join(ROOT, 'test', 'helpers', 'wrapper_query.py')], {
    input: JSON.stringify(args),
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return JSON.parse(output) as Record<string, unknown>;
}
