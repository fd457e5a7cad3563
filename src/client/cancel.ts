import { setTimeout as delay } from 'node:timers/promises';
import { dispatchIdOf } from '../workflow-ids';
import { EXIT } from '../dispatch-outcome';
import { ExitError, type Session } from './common';
import { dispatchHandle, isRunning, tryQuery } from './follow/reads';

/** `cancel`: cancels the dispatch, then waits until its running jobs have stopped. */
export async function cancelDispatch(
  session: Session,
  id: string,
  flags: { json?: boolean },
): Promise<number> {
  const dispatchId = dispatchIdOf(id);
  const handle = dispatchHandle(await session.temporal(), dispatchId);
  if (!(await isRunning(handle))) throw new ExitError(`dispatch ${dispatchId} is not running`, EXIT.failed);
  const before = await tryQuery(handle);
  await handle.cancel();
  if (!flags.json)
    console.error(
      `cancelling ${dispatchId}: ${before?.running ?? 0} jobs running; waiting for them to stop...`,
    );
  let last = before;
  while (await isRunning(handle)) {
    last = (await tryQuery(handle)) ?? last;
    await delay(500);
  }
  const after = (await tryQuery(handle)) ?? last;
  const cancelled = after?.counts.cancelled ?? 0;
  if (flags.json)
    console.log(
      JSON.stringify(
        {
          dispatch_id: dispatchId,
          jobs_cancelled: before?.running ?? 0,
          tasks_cancelled: cancelled,
          counts: after?.counts,
        },
        null,
        2,
      ),
    );
  else
    console.log(
      `cancelled ${dispatchId}: ${before?.running ?? 0} running jobs stopped, ${cancelled} tasks cancelled; ${after?.counts.succeeded ?? 0} had succeeded`,
    );
  return EXIT.ok;
}
