import { EXIT } from '../dispatch-outcome';
import { fairnessKeyOf, notifyUrlOf, priorityOf } from '../request/fleet-flags';
import type { DispatchFlags } from '../request/flag-values';
import { dispatchIdOf } from '../workflow-ids';
import { ExitError, type Session } from './common';
import { dispatchHandle, isRunning, readClosedOutcome } from './follow/reads';
import { newDispatchId } from './ids';
import { launch, type LaunchFlags } from './launch';

export type RetryFlags = LaunchFlags & DispatchFlags & { num_parallel_workers?: number };

/** `retry`: a new dispatch over the stored plan of a finished one. */
export async function retryDispatch(session: Session, id: string, flags: RetryFlags): Promise<number> {
  const fromId = dispatchIdOf(id);
  // Checked before anything is asked of the server, so a mistake writes nothing.
  const notifyUrl = notifyUrlOf(flags);
  const given = { priority: priorityOf(flags, 0), fairness_key: fairnessKeyOf(flags, '') };
  const client = await session.temporal();
  const handle = dispatchHandle(client, fromId);
  if (await isRunning(handle))
    throw new ExitError(`dispatch ${fromId} is still running: wait for it or cancel it first`, EXIT.input);
  const previous = (await readClosedOutcome(handle)).progress;
  if (!previous?.plan)
    throw new ExitError(`dispatch ${fromId} never planned anything: nothing to retry`, EXIT.input);
  const names = previous.analysis_names;
  return launch(
    session,
    client,
    {
      input: {
        kind: 'retry',
        dispatchId: newDispatchId(),
        retry_of: fromId,
        settings: {
          ...previous.settings,
          num_parallel_workers: flags.num_parallel_workers ?? previous.settings.num_parallel_workers,
          // The first dispatch's share of the workers, unless told otherwise.
          ...(given.priority ? { priority: given.priority } : {}),
          ...(given.fairness_key ? { fairness_key: given.fairness_key } : {}),
        },
        analysis_names: names,
      },
      analysisNames: names,
      summary: `retry of ${fromId} · ${names.join(', ')}`,
      details: `Reruns the tasks of dispatch ${fromId} that failed or never ran.`,
      notifyUrl,
    },
    flags,
  );
}
