import type {
  Client,
  ScheduleDescription,
  ScheduleExecutionResult,
  ScheduleSummary,
} from '@temporalio/client';
import type { DispatchRequest } from '../../types';
import { dispatchIdOf } from '../../workflow-ids';
import { specText } from './spec';
import { textTable } from '../table';
import { printable } from '../terminal-text';

export interface ScheduledRun {
  dispatch_id: string;
  workflow_id: string;
  taken_at: string;
  /** Temporal's status of the run's latest execution (it continues as new), e.g. RUNNING. */
  status: string;
}

/** A scheduled run and its current status; continue-as-new is followed by asking for the id only. */
export async function scheduledRun(client: Client, action: ScheduleExecutionResult): Promise<ScheduledRun> {
  const workflowId = action.action.workflow.workflowId;
  let status = 'UNKNOWN';
  try {
    status = (await client.workflow.getHandle(workflowId).describe()).status.name;
  } catch {
    // Closed runs past the namespace's retention are gone; the schedule still remembers them.
  }
  return {
    dispatch_id: dispatchIdOf(workflowId),
    workflow_id: workflowId,
    taken_at: action.takenAt.toISOString(),
    status,
  };
}

export interface ScheduleRow {
  schedule_id: string;
  spec: string;
  paused: boolean;
  note?: string;
  next_run?: string;
  last_run?: ScheduledRun;
}

export async function scheduleRow(client: Client, summary: ScheduleSummary): Promise<ScheduleRow> {
  const last = summary.info.recentActions.at(-1);
  return {
    schedule_id: summary.scheduleId,
    spec: specText(summary.spec, summary.memo),
    paused: summary.state.paused,
    ...(summary.state.note ? { note: summary.state.note } : {}),
    next_run: summary.info.nextActionTimes[0]?.toISOString(),
    last_run: last ? await scheduledRun(client, last) : undefined,
  };
}

export function listTable(rows: ScheduleRow[]): string {
  const table = textTable({ head: ['schedule', 'spec', 'paused', 'next run', 'last dispatch', 'status'] });
  for (const row of rows) {
    table.push([
      row.schedule_id,
      row.spec,
      row.paused ? 'yes' : 'no',
      row.paused ? '-' : (row.next_run ?? '-'),
      row.last_run?.dispatch_id ?? '-',
      row.last_run?.status ?? '-',
    ]);
  }
  return table.toString();
}

/** What `describe --json` prints: the schedule, its dispatch request, and its recent runs. */
export function describeView(
  description: ScheduleDescription,
  recent: ScheduledRun[],
  url: string,
  request: DispatchRequest | undefined,
) {
  return {
    schedule_id: description.scheduleId,
    spec: specText(description.spec, description.memo),
    paused: description.state.paused,
    note: description.state.note,
    overlap: description.policies.overlap,
    task_queue: description.action.taskQueue,
    workflow_id_prefix: description.action.workflowId,
    next_runs: description.info.nextActionTimes.map((time) => time.toISOString()),
    actions_taken: description.info.numActionsTaken,
    skipped_overlap: description.info.numActionsSkippedOverlap,
    missed_catchup_window: description.info.numActionsMissedCatchupWindow,
    running: description.info.runningActions.map((action) => dispatchIdOf(action.workflow.workflowId)),
    created_at: description.info.createdAt.toISOString(),
    recent_runs: recent,
    request,
    url,
  };
}

export function describeText(view: ReturnType<typeof describeView>): string {
  const request = view.request;
  const assets = request?.asset_ids
    ? `${request.asset_ids.length} asset ids (CSV)`
    : `query ${JSON.stringify(request?.query ?? {})}`;
  // The note and the stored request are anyone's text; the table makes its own cells printable.
  const lines = [
    `schedule   ${view.schedule_id}${view.paused ? '  PAUSED' : ''}${view.note ? `  (${view.note})` : ''}`,
    `spec       ${view.spec}; overlapping runs: ${view.overlap}`,
    `analyses   ${(request?.specs ?? []).map((spec) => `${spec.analysis_name} ${spec.analysis_version}`).join(', ')}`,
    `assets     ${assets}${request?.file_extension ? `, files *${request.file_extension}` : ''}`,
    `next runs  ${view.paused ? '- (paused)' : view.next_runs.slice(0, 3).join(', ') || '-'}`,
    `actions    ${view.actions_taken} taken, ${view.skipped_overlap} skipped (overlap), ${view.missed_catchup_window} missed`,
    `running    ${view.running.join(', ') || '-'}`,
  ].map(printable);
  if (view.recent_runs.length > 0) {
    const table = textTable({ head: ['dispatch', 'started', 'status'] });
    for (const run of [...view.recent_runs].reverse())
      table.push([run.dispatch_id, run.taken_at, run.status]);
    lines.push('recent runs (newest first):', table.toString());
  }
  lines.push(`web ui     ${view.url}`);
  return lines.join('\n');
}
