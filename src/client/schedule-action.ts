import { ScheduleNotFoundError, type Client, type ScheduleHandle } from '@temporalio/client';
import { buildDispatchRequest } from '../planning/options';
import { createRequestStore } from '../storage/request-store';
import { webUiUrl } from '../temporal';
import { dispatchIdOf, scheduledWorkflowId } from '../workflow-ids';
import { EXIT, ExitError, type Session } from './common';
import type { CreateFlags, ScheduleFlags } from './schedule';
import { createSchedule, scheduledRequest, scheduledRequestId } from './schedule-create';
import { checkScheduleId, scheduleTiming } from './schedule-spec';
import { trigger } from './schedule-trigger';
import { describeText, describeView, listTable, scheduledRun, scheduleRow } from './schedule-view';

const requestStore = async (session: Session) =>
  createRequestStore((await session.mongo()).db(session.config.DOCDB_DATABASE));

/** Runs `body` on an existing schedule; a missing one is a clear error rather than a gRPC trace. */
async function onSchedule<T>(
  session: Session,
  id: string,
  body: (handle: ScheduleHandle, client: Client) => Promise<T>,
): Promise<T> {
  const client = await session.temporal();
  try {
    return await body(client.schedule.getHandle(id), client);
  } catch (err) {
    if (err instanceof ScheduleNotFoundError)
      throw new ExitError(`no schedule "${id}" (see npx analysis schedule list)`, EXIT.input);
    throw err;
  }
}

/** `schedule create`: the request is read and stored now, the schedule's action refers to it. */
export async function createAction(session: Session, id: string, flags: CreateFlags): Promise<void> {
  const scheduleId = checkScheduleId(id);
  const timing = scheduleTiming(flags);
  const request = buildDispatchRequest(flags, session.config);
  await createSchedule(session, {
    scheduleId,
    timing,
    request,
    paused: flags.paused === true,
    note: flags.note,
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

/** `schedule list`. */
export async function listAction(session: Session, flags: ScheduleFlags): Promise<void> {
  const client = await session.temporal();
  const rows = [];
  // Other schedules may share the namespace: only those that start dispatches are ours.
  for await (const summary of client.schedule.list()) {
    if (summary.action?.workflowType === 'dispatch') rows.push(await scheduleRow(client, summary));
  }
  rows.sort((a, b) => a.schedule_id.localeCompare(b.schedule_id));
  if (flags.json) console.log(JSON.stringify(rows, null, 2));
  else if (rows.length === 0) console.error('no schedules (create one: npx analysis schedule create --help)');
  else console.log(listTable(rows));
}

/** `schedule describe`. */
export function describeAction(session: Session, id: string, flags: ScheduleFlags): Promise<void> {
  return onSchedule(session, id, async (handle, client) => {
    const description = await handle.describe();
    const recent = await Promise.all(
      description.info.recentActions.map((action) => scheduledRun(client, action)),
    );
    const request = await scheduledRequest(description.action.args, await requestStore(session));
    const view = describeView(description, recent, webUiUrl(session.config, 'schedules', id), request);
    console.log(flags.json ? JSON.stringify(view, null, 2) : describeText(view));
  });
}

/** `schedule pause` and `schedule unpause`. */
export function pauseAction(
  session: Session,
  id: string,
  name: 'pause' | 'unpause',
  flags: ScheduleFlags,
): Promise<void> {
  return onSchedule(session, id, async (handle) => {
    const note = flags.note ?? `${name}d with npx analysis schedule ${name}`;
    await (name === 'pause' ? handle.pause(note) : handle.unpause(note));
    console.log(`schedule ${id} ${name}d`);
  });
}

/** `schedule trigger`. */
export function triggerAction(session: Session, id: string, flags: ScheduleFlags): Promise<number | void> {
  return onSchedule(session, id, (handle, client) => trigger(handle, client, session, flags));
}

/** `schedule delete`. */
export function deleteAction(session: Session, id: string): Promise<void> {
  return onSchedule(session, id, async (handle) => {
    const description = await handle.describe();
    const running = description.info.runningActions;
    await handle.delete();
    // The saved request goes with the schedule, unless a run still under way may yet plan it.
    const requestId = scheduledRequestId(description.action.args);
    if (requestId && running.length === 0) await (await requestStore(session)).delete(requestId);
    console.log(`schedule ${id} deleted`);
    for (const action of running) console.log(`still running: ${dispatchIdOf(action.workflow.workflowId)}`);
  });
}
