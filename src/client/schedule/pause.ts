import type { Session } from '../common';
import { onSchedule } from './on-schedule';

/** `schedule pause` and `schedule unpause`. */
export function pauseAction(
  session: Session,
  id: string,
  name: 'pause' | 'unpause',
  flags: { note?: string },
): Promise<void> {
  return onSchedule(session, id, async (handle) => {
    const note = flags.note ?? `${name}d with analysis schedule ${name}`;
    await (name === 'pause' ? handle.pause(note) : handle.unpause(note));
    console.log(`schedule ${id} ${name}d`);
  });
}
