import { dispatchIdOf } from '../../workflow-ids';
import type { Session } from '../common';
import { createNotifyTargets } from '../../storage/notify-targets';
import { onSchedule } from './on-schedule';
import { requestStore, scheduledRequestId } from './stored-request';

/** `schedule delete`. */
export function deleteAction(session: Session, id: string): Promise<void> {
  return onSchedule(session, id, async (handle) => {
    const description = await handle.describe();
    const running = description.info.runningActions;
    await handle.delete();
    // The saved request goes with the schedule, unless a run still under way may yet plan it.
    const requestId = scheduledRequestId(description.action.args);
    if (requestId && running.length === 0) {
      await (await requestStore(session)).delete(requestId);
      await createNotifyTargets((await session.mongo()).db(session.config.DOCDB_DATABASE)).delete(requestId);
    }
    console.log(`schedule ${id} deleted`);
    for (const action of running) console.log(`still running: ${dispatchIdOf(action.workflow.workflowId)}`);
  });
}
