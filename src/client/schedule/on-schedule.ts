import { ScheduleNotFoundError, type Client, type ScheduleHandle } from '@temporalio/client';
import { EXIT } from '../../dispatch-outcome';
import { ExitError, type Session } from '../common';

/** Runs `body` on an existing schedule; a missing one is a clear error rather than a gRPC trace. */
export async function onSchedule<T>(
  session: Session,
  id: string,
  body: (handle: ScheduleHandle, client: Client) => Promise<T>,
): Promise<T> {
  const client = await session.temporal();
  try {
    return await body(client.schedule.getHandle(id), client);
  } catch (err) {
    if (err instanceof ScheduleNotFoundError)
      throw new ExitError(`no schedule "${id}" (see analysis schedule list)`, EXIT.input);
    throw err;
  }
}
