import type { Client } from '@temporalio/client';

/** One job workflow of a dispatch as Temporal's visibility lists it. */
export interface JobRun {
  index: number;
  startMs: number;
  /** Absent while the job runs. */
  endMs?: number;
  status: string;
}

const JOB_INDEX = /-job-(\d+)$/;

/**
 * The dispatch's jobs, listed page by page from visibility (their start, close and status), so
 * that the report needs no history of any of them.
 */
export async function listJobs(client: Client, dispatchId: string): Promise<JobRun[]> {
  const jobs: JobRun[] = [];
  const query = `DispatchId = "${dispatchId.replace(/["\\]/g, '')}" AND WorkflowType = "analysisJob"`;
  for await (const info of client.workflow.list({ query, pageSize: 1000 })) {
    jobs.push({
      index: Number(JOB_INDEX.exec(info.workflowId)?.[1] ?? jobs.length),
      startMs: info.startTime.getTime(),
      endMs: info.closeTime?.getTime(),
      status: info.status.name,
    });
  }
  return jobs.sort((a, b) => a.index - b.index);
}
