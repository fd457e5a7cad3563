import type { Client } from '@temporalio/client';
import {
  addLoss,
  NO_LOSS,
  windowLoss,
  type WindowLoss,
  fetchEvents,
  historyStats,
  mergeProfiles,
  profileHistory,
  runsOf,
  sampleIndexes,
  type HistoryProfile,
  type HistoryStats,
} from './histories';

export interface DispatchHistories {
  runs: HistoryStats[];
  jobs: HistoryStats[];
  jobProfile: HistoryProfile;
  maxEvents: number;
  maxPayloadBytes: number;
  maxEventBytes: number;
  /** Mean events per job: the dispatch's share (all its runs over all jobs) and a job's own. */
  dispatchEventsPerJob: number;
  jobEvents: number;
  /** The dispatch's unused window, all runs together (see windowLoss). */
  windowLoss: WindowLoss;
}

/** Histories of every run of a dispatch and of `sample` of its jobs, evenly spread. */
export async function dispatchHistories(
  client: Client,
  workflowId: string,
  jobs: number,
  sample: number,
  window: number,
): Promise<DispatchHistories> {
  const runs: HistoryStats[] = [];
  let loss: WindowLoss = NO_LOSS;
  let running = 0;
  let freed: number[] = [];
  const reported = new Set<string>();
  for (const runId of await runsOf(client, workflowId)) {
    const events = await fetchEvents(client, workflowId, runId);
    runs.push(historyStats(workflowId, events, runId));
    // A run that continued as new hands its jobs in flight to the next.
    const { runningAtEnd, freedAtEnd, ...runLoss } = windowLoss(events, window, {
      completion: 'report',
      workflowId,
      reported,
      runningAtStart: running,
      freedBefore: freed,
    });
    loss = addLoss(loss, runLoss);
    running = runningAtEnd;
    freed = freedAtEnd;
  }
  const jobStats: HistoryStats[] = [];
  const profiles: HistoryProfile[] = [];
  for (const index of sampleIndexes(jobs, sample)) {
    const jobId = `${workflowId}-job-${index}`;
    const events = await fetchEvents(client, jobId);
    jobStats.push(historyStats(jobId, events));
    profiles.push(profileHistory(events));
  }
  const all = [...runs, ...jobStats];
  return {
    runs,
    jobs: jobStats,
    jobProfile: mergeProfiles(profiles),
    maxEvents: Math.max(...all.map((stats) => stats.events)),
    maxPayloadBytes: Math.max(...all.map((stats) => stats.maxPayloadBytes)),
    maxEventBytes: Math.max(...all.map((stats) => stats.maxEventBytes)),
    dispatchEventsPerJob: runs.reduce((sum, stats) => sum + stats.events, 0) / Math.max(1, jobs),
    jobEvents: jobStats.reduce((sum, stats) => sum + stats.events, 0) / Math.max(1, jobStats.length),
    windowLoss: loss,
  };
}
