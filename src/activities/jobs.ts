import { WorkflowNotFoundError, type Client } from '@temporalio/client';

/** A job workflow that no longer runs: how it closed, or NOT_FOUND when the server has none. */
export interface ClosedJob {
  workflowId: string;
  status: string;
}

/** Describes at most this many jobs at once, so a wide window does not flood the server. */
const DESCRIBES_AT_ONCE = 20;

/**
 * A workflow cannot describe another one, so the dispatch asks this activity which of the jobs it
 * counts as running have closed: a job terminated by hand (or timed out) never reports, and its
 * slot would otherwise be held for ever.
 */
export const createJobActivities = ({ temporal }: { temporal: () => Client }) => ({
  async closedJobs(input: { workflowIds: string[] }): Promise<ClosedJob[]> {
    const closed: ClosedJob[] = [];
    for (let i = 0; i < input.workflowIds.length; i += DESCRIBES_AT_ONCE) {
      const statuses = await Promise.all(
        input.workflowIds.slice(i, i + DESCRIBES_AT_ONCE).map(async (workflowId) => {
          try {
            return {
              workflowId,
              status: (await temporal().workflow.getHandle(workflowId).describe()).status.name,
            };
          } catch (err) {
            if (err instanceof WorkflowNotFoundError) return { workflowId, status: 'NOT_FOUND' };
            throw err;
          }
        }),
      );
      closed.push(...statuses.filter((job) => job.status !== 'RUNNING'));
    }
    return closed;
  },
});
