import type { Client, WorkflowHandle } from '@temporalio/client';
import { decodeRetryState, decodeTimeoutType } from '@temporalio/common';

type History = Awaited<ReturnType<WorkflowHandle['fetchHistory']>>;
type HistoryEvent = NonNullable<History['events']>[number];

/** The job workflows of a dispatch: its children are named `<dispatch workflow id>-job-<n>`. */
export function jobWorkflowIds(dispatchWorkflowId: string, jobs: number): string[] {
  return Array.from({ length: jobs }, (_, i) => `${dispatchWorkflowId}-job-${i}`);
}

export interface ActivityOutcome {
  workflowId: string;
  activityType: string;
  /** Attempt of the last try, as recorded when it started. */
  attempt: number;
  status: 'completed' | 'failed' | 'timed_out' | 'cancelled' | 'open';
  /** Failure message and type of the last attempt (type of its innermost cause), when it failed. */
  message?: string;
  failureType?: string;
  retryState?: string;
}

/** What became of every activity of a workflow, read from its history. */
export async function activityOutcomes(client: Client, workflowId: string): Promise<ActivityOutcome[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const events: HistoryEvent[] = history.events ?? [];
  const byScheduled = new Map<string, ActivityOutcome>();
  for (const event of events) {
    const id = String(event.eventId);
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) {
      byScheduled.set(id, {
        workflowId,
        activityType: scheduled.activityType?.name ?? '',
        attempt: 0,
        status: 'open',
      });
      continue;
    }
    const started = event.activityTaskStartedEventAttributes;
    if (started) {
      const outcome = byScheduled.get(String(started.scheduledEventId));
      if (outcome) outcome.attempt = started.attempt ?? 0;
      continue;
    }
    const closed =
      (event.activityTaskCompletedEventAttributes && {
        attrs: event.activityTaskCompletedEventAttributes,
        status: 'completed' as const,
      }) ||
      (event.activityTaskFailedEventAttributes && {
        attrs: event.activityTaskFailedEventAttributes,
        status: 'failed' as const,
      }) ||
      (event.activityTaskTimedOutEventAttributes && {
        attrs: event.activityTaskTimedOutEventAttributes,
        status: 'timed_out' as const,
      }) ||
      (event.activityTaskCanceledEventAttributes && {
        attrs: event.activityTaskCanceledEventAttributes,
        status: 'cancelled' as const,
      });
    if (!closed) continue;
    const outcome = byScheduled.get(String(closed.attrs.scheduledEventId));
    if (!outcome) continue;
    outcome.status = closed.status;
    const failure = 'failure' in closed.attrs ? closed.attrs.failure : undefined;
    if (failure) {
      let inner = failure;
      while (inner.cause) inner = inner.cause;
      outcome.message = failure.message ?? undefined;
      outcome.failureType =
        inner.applicationFailureInfo?.type ??
        (inner.timeoutFailureInfo
          ? `Timeout:${decodeTimeoutType(inner.timeoutFailureInfo.timeoutType)}`
          : undefined);
    }
    if ('retryState' in closed.attrs) outcome.retryState = decodeRetryState(closed.attrs.retryState);
  }
  return [...byScheduled.values()];
}
