import { setTimeout as delay } from 'node:timers/promises';
import type { Client, ScheduleHandle } from '@temporalio/client';
import { EXIT } from '../../dispatch-outcome';
import { webUiUrl } from '../../temporal';
import { dispatchIdOf } from '../../workflow-ids';
import { ExitError, type Session } from '../common';
import { dispatchHandle } from '../follow/reads';
import { watchDispatch } from '../follow/watch';
import { onSchedule } from './on-schedule';

export interface TriggerFlags {
  wait?: boolean;
  json?: boolean;
}

const TRIGGER_TIMEOUT_MS = 30_000;

function print(flags: TriggerFlags, json: object, lines: string[]): void {
  console.log(flags.json ? JSON.stringify(json, null, 2) : lines.join('\n'));
}

/**
 * Triggers with the schedule's own overlap policy (the client would default to ALLOW_ALL) and
 * waits until the schedule has started the run, or skipped it, so the user learns its dispatch id.
 */
export async function trigger(
  handle: ScheduleHandle,
  client: Client,
  session: Session,
  flags: TriggerFlags,
): Promise<number> {
  const before = await handle.describe();
  const seen = new Set(before.info.recentActions.map((action) => action.action.workflow.workflowId));
  await handle.trigger(before.policies.overlap);
  const deadline = Date.now() + TRIGGER_TIMEOUT_MS;
  for (;;) {
    const now = await handle.describe();
    const started = now.info.recentActions.find((action) => !seen.has(action.action.workflow.workflowId));
    if (started)
      return followRun(client, session, started.action.workflow.workflowId, before.action.taskQueue, flags);
    if (now.info.numActionsSkippedOverlap > before.info.numActionsSkippedOverlap) {
      const running = now.info.runningActions.map((action) => dispatchIdOf(action.workflow.workflowId));
      const policy = now.policies.overlap;
      print(flags, { schedule_id: handle.scheduleId, skipped: true, running }, [
        `skipped: the previous run is still going (${running.join(', ') || 'unknown'}); overlap policy ${policy}`,
      ]);
      return EXIT.ok;
    }
    if (Date.now() > deadline) {
      const message = `schedule ${handle.scheduleId} did not start a run within ${TRIGGER_TIMEOUT_MS / 1000} s`;
      throw new ExitError(message, EXIT.failed);
    }
    await delay(250);
  }
}

async function followRun(
  client: Client,
  session: Session,
  workflowId: string,
  taskQueue: string,
  flags: TriggerFlags,
): Promise<number> {
  const dispatchId = dispatchIdOf(workflowId);
  const url = webUiUrl(session.config, 'workflows', workflowId);
  if (!flags.wait) {
    print(flags, { dispatch_id: dispatchId, workflow_id: workflowId, url }, [
      `dispatch ${dispatchId}`,
      `web ui   ${url}`,
      `follow it: analysis status ${dispatchId} --watch`,
    ]);
    return EXIT.ok;
  }
  const view = { dispatchId, url, json: flags.json === true };
  return watchDispatch(dispatchHandle(client, dispatchId), taskQueue, view);
}

/** `schedule trigger`. */
export function triggerAction(session: Session, id: string, flags: TriggerFlags): Promise<number> {
  return onSchedule(session, id, (handle, client) => trigger(handle, client, session, flags));
}
