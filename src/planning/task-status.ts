import type { Collection } from 'mongodb';
import { canonicalJson } from '../identity';
import { recordedStatus } from '../task-record';
import type { AnalysisSpec, StoredRecord, Task, TaskStatus } from '../types';

/**
 * Marks each task new, done, or done by other code, with ONE streamed read of the records of the
 * analyses involved: FerretDB scans for every lookup, so one lookup per task would not scale.
 */
export async function taskStatuses(
  records: Collection<StoredRecord>,
  tasks: Task[],
  codeCommit: (spec: AnalysisSpec) => Promise<string | undefined>,
): Promise<TaskStatus[]> {
  const hashes = new Set(tasks.map((task) => task.hash));
  const names = [...new Set(tasks.map((task) => task.analysis.analysis_name))];
  const recordCommits = new Map<string, string | undefined>();
  const cursor = records.find(
    { analysis_name: { $in: names } },
    { projection: { _id: 1, 'code.commit': 1 }, batchSize: 5000 },
  );
  try {
    for await (const record of cursor) {
      if (hashes.has(record._id)) recordCommits.set(record._id, record.code?.commit);
    }
  } finally {
    await cursor.close();
  }

  const currentCommits = new Map<string, Promise<string | undefined>>();
  const currentCommit = (spec: AnalysisSpec) => {
    const key = canonicalJson(spec);
    if (!currentCommits.has(key)) currentCommits.set(key, codeCommit(spec));
    return currentCommits.get(key) as Promise<string | undefined>;
  };
  return Promise.all(
    tasks.map(async (task): Promise<TaskStatus> => {
      if (!recordCommits.has(task.hash)) return 'new';
      return recordedStatus(recordCommits.get(task.hash), await currentCommit(task.analysis));
    }),
  );
}
