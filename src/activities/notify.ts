import { groupFailures, type FailureGroups } from '../failure-signature';
import { ErrorType, nonRetryable } from '../errors';
import type { NotifyTargets } from '../storage/notify-targets';
import { webUiUrl } from '../temporal';
import { uiUrlFromEnv } from '../ui-url';
import type { DispatchProgress, TaskCounts } from '../workflows/messages';
import { dispatchWorkflowId } from '../workflow-ids';

/** How a dispatch ended, as the workflow hands it over: no address, only where it is kept. */
export interface DispatchEnd {
  /** The id the notification address is saved under (storage/notify-targets.ts). */
  target: string;
  status: 'completed' | 'completed_with_failures' | 'failed' | 'cancelled';
  error?: string;
  progress: DispatchProgress;
  /** Workflow time of the end, in milliseconds. */
  ended_at: number;
}

/** The one message POSTed: `text` for chat webhooks, the rest for programs. */
export interface DispatchNotice {
  text: string;
  dispatch_id: string;
  status: DispatchEnd['status'];
  error?: string;
  analyses: string[];
  tasks_to_run: number;
  counts: TaskCounts;
  elapsed_s: number;
  failure_groups?: FailureGroups;
  report_command: string;
  url: string;
  priority?: number;
  fairness_key?: string;
}

const SEND_TIMEOUT_MS = 15_000;

export function reportCommand(dispatchId: string): string {
  return `analysis report ${dispatchId} --out report-${dispatchId}.html`;
}

/** "3 h 12 min", "4 min 5 s", "12 s". */
export function durationText(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

export function dispatchNotice(end: DispatchEnd, url: string): DispatchNotice {
  const { progress } = end;
  const { jobs_finished: _jobs, ...counts } = progress.counts;
  const tasks = progress.plan?.tasks_to_run ?? 0;
  const elapsed = Math.max(0, (end.ended_at - progress.started_at) / 1000);
  const groups = progress.failures.length > 0 ? groupFailures(progress.failures, { top: 5 }) : undefined;
  const command = reportCommand(progress.dispatch_id);
  const skipped = counts.skipped + counts.changed_code;
  const how = end.status.replace(/_/g, ' ');
  const cause = groups?.groups[0] ? `; most failures: ${groups.groups[0].signature}` : '';
  const text =
    `dispatch ${progress.dispatch_id} (${progress.analysis_names.join(', ')}) ${how}: ` +
    `${counts.succeeded} succeeded, ${counts.failed} failed, ${skipped} skipped` +
    `${counts.cancelled ? `, ${counts.cancelled} cancelled` : ''} of ${tasks} tasks ` +
    `in ${durationText(elapsed)}${cause}. Report: ${command}`;
  return {
    text: text.replace(/\s+/g, ' '),
    dispatch_id: progress.dispatch_id,
    status: end.status,
    ...(end.error ? { error: end.error } : {}),
    analyses: progress.analysis_names,
    tasks_to_run: tasks,
    counts,
    elapsed_s: Math.round(elapsed * 10) / 10,
    ...(groups ? { failure_groups: groups } : {}),
    report_command: command,
    url,
    ...(progress.settings.priority !== undefined ? { priority: progress.settings.priority } : {}),
    ...(progress.settings.fairness_key !== undefined ? { fairness_key: progress.settings.fairness_key } : {}),
  };
}

/**
 * Why a send failed, without the address: the address is the secret, and an error travels into the
 * history and the worker's log. The system error code says enough (ECONNREFUSED, ENOTFOUND).
 */
function sendFailure(err: unknown): Error {
  const cause = (err as { cause?: { code?: unknown } }).cause;
  const code = typeof cause?.code === 'string' ? cause.code : (err as Error).name;
  return new Error(`the notification endpoint could not be reached (${code})`);
}

export function createNotifyActivities(deps: { targets: NotifyTargets }) {
  return {
    /**
     * POSTs the end of a dispatch to its saved address. A failure to reach it or a 5xx is retried
     * by the activity's policy; a 4xx other than 408 and 429 is final.
     */
    async notifyDispatchEnd(end: DispatchEnd): Promise<'sent' | 'no target'> {
      const address = await deps.targets.url(end.target);
      if (!address) return 'no target';
      const id = end.progress.dispatch_id;
      const notice = dispatchNotice(
        end,
        webUiUrl({ TEMPORAL_UI_URL: uiUrlFromEnv() }, 'workflows', dispatchWorkflowId(id)),
      );
      let response: Response;
      try {
        response = await fetch(address, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(notice),
          redirect: 'error',
          signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
        });
      } catch (err) {
        throw sendFailure(err);
      }
      await response.body?.cancel().catch(() => undefined);
      if (response.ok) return 'sent';
      const message = `the notification endpoint answered HTTP ${response.status}`;
      if (response.status >= 400 && response.status < 500 && ![408, 429].includes(response.status))
        throw nonRetryable(ErrorType.NotificationRefused, message);
      throw new Error(message);
    },
  };
}
