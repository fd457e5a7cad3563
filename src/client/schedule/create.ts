import { randomUUID } from 'node:crypto';
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type ScheduleOptions } from '@temporalio/client';
import type { Config } from '../../config';
import { InputError } from '../../errors';
import { notifyUrlOf } from '../../request/fleet-flags';
import { buildDispatchRequest, type DispatchFlags } from '../../request/options';
import { createNotifyTargets } from '../../storage/notify-targets';
import { dispatchPriority, sharingText } from '../sharing';
import { setupProblem, webUiUrl } from '../../temporal';
import type { DispatchRequest } from '../../types';
import { dispatch } from '../../workflows/dispatch';
import { analysisNamesOf, settingsOf } from '../../workflows/dispatch-rules';
import type { DispatchInput } from '../../workflows/messages';
import { AnalysisNameKey } from '../../workflows/search-attributes';
import { scheduledWorkflowId } from '../../workflow-ids';
import type { Session } from '../common';
import { checkInputSize } from '../workflow-input';
import { checkScheduleId, scheduleTiming, type Timing } from './spec';
import { requestStore } from './stored-request';

export type CreateFlags = DispatchFlags & {
  cron?: string;
  every?: string;
  interval?: string;
  paused?: boolean;
  note?: string;
  json?: boolean;
};

export interface CreateOptions {
  scheduleId: string;
  timing: Timing;
  request: DispatchRequest;
  paused: boolean;
  note?: string;
  /** Where each run announces its end, saved under the schedule's request id. */
  notifyUrl?: string;
}

/**
 * Every run starts the ordinary `dispatch` workflow with the request read at create time, which
 * waits in the database (under `requestId`) rather than in the schedule's action. The
 * dispatch id is left empty: a schedule cannot compute one per run, so the workflow takes it from
 * its workflow id, which Temporal makes unique by appending the scheduled time. DispatchId is set
 * by the workflow for the same reason; only the analysis names are the same for every run.
 */
export function scheduleOptions(options: CreateOptions, config: Config, requestId: string): ScheduleOptions {
  const { request, scheduleId } = options;
  const names = analysisNamesOf(request).join(', ');
  const input: DispatchInput = {
    kind: 'stored',
    dispatchId: '',
    request_id: requestId,
    settings: settingsOf(request),
    analysis_names: analysisNamesOf(request),
    continue_as_new_after: config.ANALYSIS_CONTINUE_AS_NEW_AFTER,
    ...(options.notifyUrl ? { notify: requestId } : {}),
  };
  checkInputSize(`the input of schedule ${scheduleId}'s dispatches`, input);
  return {
    scheduleId,
    spec: options.timing.spec,
    action: {
      type: 'startWorkflow',
      workflowType: dispatch,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      workflowId: scheduledWorkflowId(scheduleId),
      args: [input],
      ...dispatchPriority(input.settings),
      typedSearchAttributes: [{ key: AnalysisNameKey, value: names }],
      staticSummary: `scheduled dispatch · ${names} · ${scheduleId}${request.priority !== undefined ? ` · priority ${request.priority}` : ''}`,
      staticDetails: `Schedule ${scheduleId} (${options.timing.text}): ${request.specs.map((s) => `${s.analysis_name} ${s.analysis_version}`).join(', ')}; only new or changed tasks run${sharingText(input.settings)}`,
    },
    // The identity hash makes a rerun cheap, but two runs at once would plan the same tasks twice.
    policies: { overlap: ScheduleOverlapPolicy.SKIP },
    memo: { spec: options.timing.text, analyses: names },
    state: { paused: options.paused, ...(options.note ? { note: options.note } : {}) },
  };
}

export async function createSchedule(session: Session, options: CreateOptions): Promise<void> {
  const client = await session.temporal();
  const requests = await requestStore(session);
  // An id of its own, so that a refused create (the schedule exists) leaves the other's request be.
  const requestId = `schedule-${options.scheduleId}-${randomUUID()}`;
  const targets = createNotifyTargets((await session.mongo()).db(session.config.DOCDB_DATABASE));
  await requests.save(requestId, options.request);
  try {
    if (options.notifyUrl) await targets.save(requestId, options.notifyUrl);
    await client.schedule.create(scheduleOptions(options, session.config, requestId));
  } catch (err) {
    await requests.delete(requestId).catch(() => undefined);
    if (options.notifyUrl) await targets.delete(requestId).catch(() => undefined);
    const setup = await setupProblem(client, err);
    if (setup !== err) throw setup;
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

/** `schedule create`: the request is read and stored now, the schedule's action refers to it. */
export async function createAction(session: Session, id: string, flags: CreateFlags): Promise<void> {
  const scheduleId = checkScheduleId(id);
  const timing = scheduleTiming(flags);
  const request = buildDispatchRequest(flags, session.config);
  const notifyUrl = notifyUrlOf(flags);
  await createSchedule(session, {
    scheduleId,
    timing,
    request,
    paused: flags.paused === true,
    note: flags.note,
    notifyUrl,
  });
  const description = await (await session.temporal()).schedule.getHandle(scheduleId).describe();
  const next = description.info.nextActionTimes[0]?.toISOString();
  const url = webUiUrl(session.config, 'schedules', scheduleId);
  if (flags.json) {
    const view = {
      schedule_id: scheduleId,
      spec: timing.text,
      paused: flags.paused === true,
      next_run: next,
      url,
    };
    console.log(JSON.stringify(view, null, 2));
    return;
  }
  console.log(
    `schedule ${scheduleId} created${flags.paused ? ' (paused)' : ''}: ${timing.text}, overlapping runs skipped`,
  );
  console.log(flags.paused ? 'next run  none while paused' : `next run  ${next ?? '-'}`);
  console.log(
    `runs      ${scheduledWorkflowId(scheduleId)}-<time>; their dispatch ids are sched-${scheduleId}-<time>`,
  );
  console.log(`web ui    ${url}`);
}
