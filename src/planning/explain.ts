import { recordFacts } from '../aind/metadata';
import { canonicalJson } from '../identity';
import type { AnalysisSpec, InputFingerprint, StoredRecord, Task, TaskInput, TaskStatus } from '../types';
import type { PlannedTask } from './plan-dispatch';
import type { RecordReader } from './task-status';

/** One field of a task's identity that differs from the record it is explained against. */
export type Difference =
  | { field: 'parameter'; name: string; old?: unknown; new?: unknown }
  | { field: 'analysis_version'; old?: string; new: string }
  | { field: 'library'; name: string; old?: string; new?: string }
  | { field: 'output_bucket'; old?: string; new: string }
  | { field: 'commit'; old?: string; new?: string }
  | { field: 'input'; name: string; old: InputFingerprint; new: InputFingerprint };

/**
 * Why a task runs, or is held back: `changed` against the latest earlier record of its inputs,
 * `no_earlier_record`, `changed_code` against its own record, `inputs_changed` since its own
 * record, `forced` over its own record.
 */
export interface Explanation {
  hash: string;
  status: TaskStatus;
  will_run: boolean;
  reason: 'changed' | 'no_earlier_record' | 'changed_code' | 'inputs_changed' | 'forced';
  /** The record compared against; absent for `no_earlier_record`. */
  record?: { hash: string; finished_at?: string };
  differences: Difference[];
}

/** What a record says of the identity it was made under, whatever its format. */
export interface RecordedIdentity {
  hash: string;
  analysis_version?: string;
  libraries: Record<string, string>;
  parameters: Record<string, unknown>;
  output_bucket?: string;
  commit?: string;
  finished_at?: string;
}

/** What `recordedIdentity` and the matching read of a record, added to planning's projection. */
export const EXPLAIN_PROJECTION = {
  _id: 1,
  analysis_name: 1,
  analysis_version: 1,
  location: 1,
  libraries: 1,
  'code.commit': 1,
  'input.s3_location': 1,
  'input.file_location': 1,
  parameters: 1,
  finished_at: 1,
  'processing.data_processes.code.parameters': 1,
  'processing.data_processes.end_date_time': 1,
} as const;

/** Tasks of one analysis on the same inputs share this key, whatever else differs. */
export function inputsKey(
  analysisName: string,
  input: Pick<TaskInput, 's3_location' | 'file_location'>,
): string {
  return canonicalJson([analysisName, input.s3_location ?? [], input.file_location ?? []]);
}

export function recordedIdentity(record: StoredRecord): RecordedIdentity {
  const facts = recordFacts(record);
  const bucket = outputBucketOf(record.location, record._id);
  return {
    hash: record._id,
    ...(record.analysis_version !== undefined ? { analysis_version: record.analysis_version } : {}),
    libraries: record.libraries ?? {},
    parameters: facts.parameters,
    ...(bucket !== undefined ? { output_bucket: bucket } : {}),
    ...(record.code?.commit ? { commit: record.code.commit } : {}),
    ...(facts.finished_at ? { finished_at: facts.finished_at } : {}),
  };
}

/** `bucket[/prefix]` of a record's `s3://bucket[/prefix]/<hash>` location (or of a folder inside it). */
export function outputBucketOf(location: string | undefined, hash: string): string | undefined {
  if (!location?.startsWith('s3://')) return undefined;
  const path = location.slice('s3://'.length).replace(/\/+$/, '');
  // A rerun's objects sit in a folder of their own inside the task's.
  const task = `${path}/`.lastIndexOf(`/${hash}/`);
  return task >= 0 ? path.slice(0, task) : path.slice(0, path.lastIndexOf('/'));
}

/** Field by field, what differs between a record's identity and a task's. */
export function identityDifferences(recorded: RecordedIdentity, task: Task): Difference[] {
  const differences: Difference[] = [];
  if (recorded.analysis_version !== task.analysis.analysis_version)
    differences.push({
      field: 'analysis_version',
      ...(recorded.analysis_version !== undefined ? { old: recorded.analysis_version } : {}),
      new: task.analysis.analysis_version,
    });
  for (const name of unionKeys(recorded.libraries, task.libraries)) {
    const [old, current] = [recorded.libraries[name], task.libraries[name]];
    if (old !== current)
      differences.push({
        field: 'library',
        name,
        ...(old !== undefined ? { old } : {}),
        ...(current !== undefined ? { new: current } : {}),
      });
  }
  if (recorded.output_bucket !== task.analysis.s3_output_bucket)
    differences.push({
      field: 'output_bucket',
      ...(recorded.output_bucket !== undefined ? { old: recorded.output_bucket } : {}),
      new: task.analysis.s3_output_bucket,
    });
  parameterDifferences('', recorded.parameters, task.parameters, differences);
  return differences;
}

/** Nested objects are compared key by key (named `a.b`: parameter keys never hold a dot). */
function parameterDifferences(path: string, old: unknown, current: unknown, out: Difference[]): void {
  if (isPlainObject(old) && isPlainObject(current)) {
    for (const key of unionKeys(old, current))
      parameterDifferences(path ? `${path}.${key}` : key, old[key], current[key], out);
    return;
  }
  if (old === undefined && current === undefined) return;
  if (old !== undefined && current !== undefined && canonicalJson(old) === canonicalJson(current)) return;
  out.push({
    field: 'parameter',
    name: path,
    ...(old !== undefined ? { old } : {}),
    ...(current !== undefined ? { new: current } : {}),
  });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function unionKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
}

/**
 * Reads along with planning's one streamed read of the records (a second scan would cost as much
 * again: FerretDB scans the whole collection for every query). It keeps, of the records, what
 * explaining needs: the records of planned tasks (by hash), and for each task's inputs the latest
 * record no planned task owns (a record another task of the plan owns explains nothing about
 * this one). Planned statuses are not known yet while it reads, so it keeps them for every task.
 */
export class RecordIndex implements RecordReader {
  readonly projection = EXPLAIN_PROJECTION;
  private readonly keys: Set<string>;
  private readonly planned: Set<string>;
  private readonly latest = new Map<string, RecordedIdentity>();
  private readonly own = new Map<string, RecordedIdentity>();

  constructor(tasks: Task[]) {
    this.keys = new Set(tasks.map(taskKey));
    this.planned = new Set(tasks.map((task) => task.hash));
  }

  add(record: StoredRecord): void {
    if (this.planned.has(record._id)) {
      this.own.set(record._id, recordedIdentity(record));
      return;
    }
    if (!record.input || !record.analysis_name) return;
    const key = inputsKey(record.analysis_name, record.input);
    if (!this.keys.has(key)) return;
    const identity = recordedIdentity(record);
    const held = this.latest.get(key);
    if (!held || (identity.finished_at ?? '') >= (held.finished_at ?? '')) this.latest.set(key, identity);
  }

  latestOf(key: string): RecordedIdentity | undefined {
    return this.latest.get(key);
  }

  ownRecord(hash: string): RecordedIdentity | undefined {
    return this.own.get(hash);
  }
}

/** The tasks worth explaining: those that will run, and those held back as done by other code. */
export function tasksToExplain(planned: PlannedTask[]): PlannedTask[] {
  return planned.filter(({ status, will_run }) => will_run || status === 'changed_code');
}

const taskKey = (task: Task) => inputsKey(task.analysis.analysis_name, task.input);

/** Each task against the record that explains it; `currentCommits` by task hash, for changed code. */
export function explainTasks(
  explained: PlannedTask[],
  index: RecordIndex,
  currentCommits: Map<string, string | undefined>,
): Explanation[] {
  return explained.map((planned): Explanation => {
    const { task, status, will_run } = planned;
    const base = { hash: task.hash, status, will_run };
    if (status === 'new') {
      const earlier = index.latestOf(taskKey(task));
      if (!earlier) return { ...base, reason: 'no_earlier_record', differences: [] };
      return {
        ...base,
        reason: 'changed',
        record: recordRef(earlier),
        differences: identityDifferences(earlier, task),
      };
    }
    const own = index.ownRecord(task.hash);
    const current = currentCommits.get(task.hash);
    const differences: Difference[] = [
      ...(status === 'changed_code'
        ? [
            {
              field: 'commit' as const,
              ...(own?.commit ? { old: own.commit } : {}),
              ...(current ? { new: current } : {}),
            },
          ]
        : []),
      ...(planned.changed_inputs ?? []).map((input): Difference => ({
        field: 'input',
        name: input.url,
        old: input.recorded,
        new: input.current,
      })),
    ];
    return {
      ...base,
      reason:
        status === 'changed_code' ? 'changed_code' : planned.inputs_changed ? 'inputs_changed' : 'forced',
      ...(own ? { record: recordRef(own) } : {}),
      differences,
    };
  });
}

function recordRef(record: RecordedIdentity): { hash: string; finished_at?: string } {
  return { hash: record.hash, ...(record.finished_at ? { finished_at: record.finished_at } : {}) };
}

/** The planned tasks worth explaining, against what `index` kept of planning's read of the records. */
export async function explainPlanned(
  index: RecordIndex,
  planned: PlannedTask[],
  codeCommit: (spec: AnalysisSpec) => Promise<string | undefined>,
): Promise<Explanation[]> {
  const explained = tasksToExplain(planned);
  const commits = new Map<string, Promise<string | undefined>>();
  const currentCommits = new Map<string, string | undefined>();
  for (const { task } of explained.filter(({ status }) => status === 'changed_code')) {
    const key = canonicalJson(task.analysis);
    if (!commits.has(key)) commits.set(key, codeCommit(task.analysis));
    currentCommits.set(task.hash, await commits.get(key));
  }
  return explainTasks(explained, index, currentCommits);
}

/** Tasks that differ the same way, with a few of them to look at. */
export interface ExplanationGroup {
  tasks: number;
  reason: Explanation['reason'];
  differences: Difference[];
  examples: string[];
}

/** Tasks grouped by the same reason and set of differences, the biggest groups first. */
export function rollUp(
  explanations: Explanation[],
  labels: Map<string, string>,
  examples = 3,
): ExplanationGroup[] {
  const groups = new Map<string, ExplanationGroup>();
  for (const explanation of explanations) {
    const key = canonicalJson([explanation.reason, explanation.differences]);
    let group = groups.get(key);
    if (!group) {
      group = { tasks: 0, reason: explanation.reason, differences: explanation.differences, examples: [] };
      groups.set(key, group);
    }
    group.tasks += 1;
    const label = labels.get(explanation.hash) ?? explanation.hash.slice(0, 12);
    if (group.examples.length < examples && !group.examples.includes(label)) group.examples.push(label);
  }
  return [...groups.values()].sort((a, b) => b.tasks - a.tasks);
}

/** How a task is named to a reader: its asset (or first of its group) and its one file. */
export function taskLabel(task: Task): string {
  const asset = task.input.asset_name[0] || task.input.s3_location[0] || task.hash.slice(0, 12);
  const more = task.input.asset_name.length > 1 ? ` (+${task.input.asset_name.length - 1} assets)` : '';
  const file = task.input.file_location.length === 1 ? ` ${basename(task.input.file_location[0]!)}` : '';
  return `${asset}${more}${file}`;
}

function basename(url: string): string {
  return url.replace(/\/+$/, '').split('/').pop() ?? url;
}

/** `window_s 5 -> 7`, `analysis_version v1 -> v2`, `library numpy 1.26 -> 2.0`, `commit 1a2b3c -> 4d5e6f`. */
export function differenceText(difference: Difference): string {
  const change = `${shown(difference.old)} -> ${shown(difference.new)}`;
  switch (difference.field) {
    case 'parameter':
      return `${difference.name} ${change}`;
    case 'library':
      return `library ${difference.name} ${change}`;
    case 'commit':
      return `commit ${shortCommit(difference.old)} -> ${shortCommit(difference.new)}`;
    case 'input':
      return `input ${basename(difference.name)} ${fingerprintChange(difference.old, difference.new)}`;
    default:
      return `${difference.field} ${change}`;
  }
}

/** What of an input's fingerprint changed: `size 10 -> 12, etag "a" -> "b"`. */
function fingerprintChange(old: InputFingerprint, current: InputFingerprint): string {
  const fields = (['size', 'objects', 'etag', 'digest'] as const).filter(
    (field) => old[field] !== current[field],
  );
  if (fields.length === 0) return 'changed';
  return fields
    .map((field) => {
      const short = (value: string | number | undefined) =>
        typeof value === 'string' && field === 'digest' ? value.slice(0, 12) : shown(value);
      return `${field} ${short(old[field])} -> ${short(current[field])}`;
    })
    .join(', ');
}

const shortCommit = (commit: string | undefined) => (commit ? commit.slice(0, 12) : '(unknown)');

/** Values as JSON, strings bare when unambiguous; long ones cut so a line stays readable. */
function shown(value: unknown): string {
  if (value === undefined) return '(none)';
  const text = typeof value === 'string' && /^[\w.\-/:@+]+$/.test(value) ? value : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Why tasks of this reason and these differences run, or are held back. */
export function reasonText(reason: Explanation['reason'], differences: Difference[]): string {
  const listed = differences.map(differenceText).join(', ');
  switch (reason) {
    case 'no_earlier_record':
      return 'no earlier record';
    case 'forced':
      return 'already done, rerun by --force';
    case 'inputs_changed':
      return `already done, an input changed since${listed ? `: ${listed}` : ''}`;
    case 'changed_code':
      return `done by different code: ${listed}`;
    default:
      return listed || 'another identity, but no difference in the fields its record keeps';
  }
}

export function groupText(group: ExplanationGroup): string {
  return `${tasks(group.tasks)}: ${reasonText(group.reason, group.differences)} (e.g. ${group.examples.join(', ')})`;
}

const tasks = (count: number) => `${count} task${count === 1 ? '' : 's'}`;

/** The lines `plan --explain` prints: the roll-up, then each task while there are few. */
export function explainLines(
  explanations: Explanation[],
  labels: Map<string, string>,
  eachTaskUpTo = 20,
): string[] {
  if (explanations.length === 0) return ['explain: no task to run or done by different code'];
  const earlier = explanations.filter(({ reason }) => reason === 'changed').length;
  const lines = [
    `explain: ${tasks(explanations.length)}, ${earlier} with an earlier record of the same inputs under another identity`,
    ...rollUp(explanations, labels).map((group) => `  ${groupText(group)}`),
  ];
  if (explanations.length > eachTaskUpTo) {
    lines.push(`  (--json explains each of the ${explanations.length} tasks)`);
    return lines;
  }
  lines.push('each task:');
  for (const { hash, reason, differences, record } of explanations) {
    const against = record ? ` [record ${record.hash.slice(0, 12)}]` : '';
    lines.push(
      `  ${labels.get(hash) ?? hash.slice(0, 12)} (${hash.slice(0, 12)}): ${reasonText(reason, differences)}${against}`,
    );
  }
  return lines;
}
