import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type ScheduleOptions } from '@temporalio/client';
import type { Config } from '../config';
import { InputError } from '../errors';
import type { DispatchRequest } from '../types';
import { dispatch } from '../workflows/dispatch';
import type { DispatchInput } from '../workflows/messages';
import { AnalysisNameKey } from '../workflows/search-attributes';
import type { Session } from './common';
import { scheduledWorkflowId } from '../workflow-ids';
import { type Timing } from './schedule-spec';
import { analysisNamesOf } from '../workflows/dispatch-rules';

export interface CreateOptions {
  scheduleId: string;
  timing: Timing;
  request: DispatchRequest;
  paused: boolean;
  note?: string;
}

/**
 * Every run starts the ordinary `dispatch` workflow with the request read at create time. The
 * dispatch id is left empty: a schedule cannot compute one per run, so the workflow takes it from
 * its workflow id, which Temporal makes unique by appending the scheduled time. DispatchId is set
 * by the workflow for the same reason; only the analysis names are the same for every run.
 */
export function scheduleOptions(options: CreateOptions, config: Config): ScheduleOptions {
  const { request, scheduleId } = options;
  const names = analysisNamesOf(request).join(', ');
  const input: DispatchInput = {
    kind: 'new',
    dispatch_id: '',
    request,
    continue_as_new_after: config.ANALYSIS_CONTINUE_AS_NEW_AFTER,
  };
  return {
    scheduleId,
    spec: options.timing.spec,
    action: {
      type: 'startWorkflow',
      workflowType: dispatch,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      workflowId: scheduledWorkflowId(scheduleId),
      args: [input],
      typedSearchAttributes: [{ key: AnalysisNameKey, value: names }],
      staticSummary: `scheduled dispatch · ${names} · ${scheduleId}`,
      staticDetails: `Schedule ${scheduleId} (${options.timing.text}): ${request.specs.map((s) => `${s.analysis_name} ${s.analysis_version}`).join(', ')}; only new or changed tasks run`,
    },
    // The identity hash makes a rerun cheap, but two runs at once would plan the same tasks twice.
    policies: { overlap: ScheduleOverlapPolicy.SKIP },
    memo: { spec: options.timing.text, analyses: names },
    state: { paused: options.paused, ...(options.note ? { note: options.note } : {}) },
  };
}

export async function createSchedule(session: Session, options: CreateOptions): Promise<void> {
  const client = await session.temporal();
  try {
    await client.schedule.create(scheduleOptions(options, session.config));
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) {
      throw new InputError(
        `schedule "${options.scheduleId}" already exists: delete it first or choose another id`,
      );
    }
    // The client turns the server's "Invalid schedule spec" into a TypeError with its reason.
    if (err instanceof TypeError) {
      throw new InputError(
        `the server refused the schedule's timing (${options.timing.text}): ${err.message}`,
      );
    }
    throw err;
  }
}
