import { webUiUrl } from '../../temporal';
import type { Session } from '../common';
import { onSchedule } from './on-schedule';
import { requestStore, scheduledRequest } from './stored-request';
import { describeText, describeView, scheduledRun } from './view';

/** `schedule describe`. */
export function describeAction(session: Session, id: string, flags: { json?: boolean }): Promise<void> {
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
