import { setTimeout as delay } from 'node:timers/promises';
import { InputError } from '../errors';
import { buildReport } from '../report/build';
import { renderReport } from '../report/html';
import { listJobs, type JobRun } from '../report/jobs';
import { tallyRecords } from '../report/records';
import type { ReportData } from '../report/types';
import { openPending, type PendingFile } from '../report/write';
import { webUiUrl } from '../temporal';
import type { StoredRecord } from '../types';
import { dispatchIdOf, dispatchWorkflowId } from '../workflow-ids';
import { EXIT, type Outcome } from '../dispatch-outcome';
import { ExitError, type Session } from './common';
import { dispatchHandle, readCurrentOutcome } from './follow/reads';

/** How long to wait for visibility to list the jobs of a dispatch that just closed. */
const VISIBILITY_WAIT_MS = 10_000;

/**
 * The dispatch's jobs. Visibility indexes a job a moment after it starts or closes: for a closed
 * dispatch, list again until every job it started is listed as closed (or give up, and show what
 * is there).
 */
async function jobsOf(session: Session, dispatchId: string, outcome: Outcome): Promise<JobRun[]> {
  const client = await session.temporal();
  const deadline = Date.now() + VISIBILITY_WAIT_MS;
  for (;;) {
    const jobs = await listJobs(client, dispatchId);
    const started = outcome.progress?.jobs_started ?? 0;
    const settled = jobs.length >= started && jobs.every((job) => job.endMs !== undefined);
    if (outcome.status === 'running' || settled || Date.now() > deadline) return jobs;
    await delay(500);
  }
}

async function gather(session: Session, dispatchId: string): Promise<ReportData> {
  const handle = dispatchHandle(await session.temporal(), dispatchId);
  const outcome = await readCurrentOutcome(handle);
  const { config } = session;
  const records = (await session.mongo())
    .db(config.DOCDB_DATABASE)
    .collection<StoredRecord>(config.DOCDB_COLLECTION);
  const [tally, jobs] = await Promise.all([
    tallyRecords(records, dispatchId),
    jobsOf(session, dispatchId, outcome),
  ]);
  return buildReport({
    outcome,
    view: {
      dispatchId,
      url: webUiUrl(config, 'workflows', dispatchWorkflowId(dispatchId)),
      json: false,
    },
    tally,
    jobs,
  });
}

async function pendingOut(path: string): Promise<PendingFile> {
  try {
    return await openPending(path);
  } catch (err) {
    throw new ExitError(`cannot write --out ${path}: ${(err as Error).message}`, EXIT.input);
  }
}

/** `report`: one HTML file (or JSON) about a dispatch, written whole or not at all. */
export async function writeReport(
  session: Session,
  id: string,
  flags: { out?: string; json?: boolean },
): Promise<number> {
  if (flags.out !== undefined && flags.out.trim() === '') throw new InputError('--out needs a file name');
  if (flags.out === undefined && !flags.json)
    throw new InputError('give --out FILE.html (or --json to print the data)');
  const dispatchId = dispatchIdOf(id);
  // Opened first: an unwritable path fails before the dispatch is read.
  const out = flags.out === undefined ? undefined : await pendingOut(flags.out);
  try {
    const data = await gather(session, dispatchId);
    const content = flags.json ? `${JSON.stringify(data, null, 2)}\n` : renderReport(data);
    if (!out) {
      process.stdout.write(content);
      return EXIT.ok;
    }
    const bytes = await out.commit(content);
    const groups = data.failures.groups.length + data.failures.other_groups;
    console.log(
      `wrote ${out.path} (${(bytes / 1024).toFixed(1)} KiB): dispatch ${dispatchId} ${data.dispatch.status}, ${data.tasks.records} records, ${data.failures.failed} failed${groups ? ` in ${groups} ${groups === 1 ? 'cause' : 'causes'}` : ''}, ${data.jobs.listed} jobs`,
    );
    return EXIT.ok;
  } catch (err) {
    await out?.abandon();
    throw err;
  }
}
