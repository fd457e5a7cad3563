import type { Collection, Filter } from 'mongodb';
import { canonicalJson } from '../identity';
import { inputsChanged } from '../input-digest';
import { recordedStatus } from '../task-record';
import type { AnalysisSpec, StoredRecord, Task, TaskStatus } from '../types';

/** What planning reads of a task's record: the commit that made it and its inputs' digest. */
export interface RecordedFacts {
  commit?: string;
  /** Absent in records made before inputs were fingerprinted. */
  digest?: string;
}

/** A task against its record: new, done, or done by other code; and whether its inputs changed since. */
export interface TaskState {
  status: TaskStatus;
  /** A done task (of either kind) whose inputs' fingerprints differ from its record's. */
  inputs_changed: boolean;
}

/**
 * Another reader of the records planning streams (`plan --explain`): it sees every record of the
 * analyses involved, with its fields added to the projection, so the collection is scanned once.
 */
export interface RecordReader {
  projection: Record<string, 1>;
  /** Records beyond those of the analyses involved that this reader needs too. */
  filter?: Filter<StoredRecord>;
  add(record: StoredRecord): void;
}

/** What the records are read for: the tasks' hashes, and the analyses whose records may hold them. */
export interface RecordedQuery {
  hashes: ReadonlySet<string>;
  analysisNames: string[];
}

/**
 * The records of these tasks, by hash, with ONE streamed read of the records of the analyses
 * involved (and of those the readers ask for): FerretDB scans for every lookup, so one lookup per
 * task, or one read per reader, would not scale. Only each record's input digest is read, never
 * its list of fingerprints, and only the records of planned tasks are kept.
 */
export async function readRecorded(
  records: Collection<StoredRecord>,
  planned: RecordedQuery,
  ...readers: Array<RecordReader | undefined>
): Promise<Map<string, RecordedFacts>> {
  const recorded = new Map<string, RecordedFacts>();
  const names = new Set(planned.analysisNames);
  const others = readers.flatMap((reader) => (reader?.filter ? [reader.filter] : []));
  const own: Filter<StoredRecord> = { analysis_name: { $in: planned.analysisNames } };
  const projection = Object.assign({}, ...readers.map((reader) => reader?.projection)) as Record<string, 1>;
  const cursor = records.find(others.length ? { $or: [own, ...others] } : own, {
    projection: { ...projection, _id: 1, analysis_name: 1, 'code.commit': 1, input_digest: 1 },
    batchSize: 5000,
  });
  try {
    for await (const record of cursor) {
      for (const reader of readers) reader?.add(record);
      // What another reader asked for is no record of these analyses.
      if (!planned.hashes.has(record._id) || !names.has(record.analysis_name)) continue;
      const digest = 'input_digest' in record ? record.input_digest : undefined;
      recorded.set(record._id, { commit: record.code?.commit, digest });
    }
  } finally {
    await cursor.close();
  }
  return recorded;
}

/** The tasks' hashes and analysis names, as readRecorded takes them. */
export function recordedQuery(tasks: Task[]): RecordedQuery {
  return {
    hashes: new Set(tasks.map((task) => task.hash)),
    analysisNames: [...new Set(tasks.map((task) => task.analysis.analysis_name))],
  };
}

/** Marks each task new, done, or done by other code, and notes changed inputs. */
export async function taskStates(
  recorded: Map<string, RecordedFacts>,
  tasks: Task[],
  codeCommit: (spec: AnalysisSpec) => Promise<string | undefined>,
): Promise<TaskState[]> {
  const currentCommits = new Map<string, Promise<string | undefined>>();
  const currentCommit = (spec: AnalysisSpec) => {
    const key = canonicalJson(spec);
    if (!currentCommits.has(key)) currentCommits.set(key, codeCommit(spec));
    return currentCommits.get(key) as Promise<string | undefined>;
  };
  return Promise.all(
    tasks.map(async (task): Promise<TaskState> => {
      const record = recorded.get(task.hash);
      if (!record) return { status: 'new', inputs_changed: false };
      return {
        status: recordedStatus(record.commit, await currentCommit(task.analysis)),
        inputs_changed: inputsChanged(record.digest, task),
      };
    }),
  );
}
