/**
 * The grammar of workflow ids, shared by the workflows (which derive their children's ids) and
 * the CLI (which finds workflows by them). No I/O here: workflow code imports it.
 *
 *   dispatch-<dispatch_id>                  a dispatch
 *   dispatch-<dispatch_id>-job-<index>      one of its jobs
 *   dispatch-sched-<schedule_id>-<time>     a dispatch started by a schedule (the server appends the time)
 */
const DISPATCH_PREFIX = 'dispatch-';

export const dispatchWorkflowId = (dispatchId: string): string => `${DISPATCH_PREFIX}${dispatchId}`;

/** Accepts a dispatch id or its workflow id. */
export function dispatchIdOf(idOrWorkflowId: string): string {
  return idOrWorkflowId.startsWith(DISPATCH_PREFIX)
    ? idOrWorkflowId.slice(DISPATCH_PREFIX.length)
    : idOrWorkflowId;
}

export const jobWorkflowId = (dispatchWorkflowId: string, jobIndex: number): string =>
  `${dispatchWorkflowId}-job-${jobIndex}`;

/** Workflow id a schedule gives its dispatches, before the server appends each run's time. */
export const scheduledWorkflowId = (scheduleId: string): string => dispatchWorkflowId(`sched-${scheduleId}`);
