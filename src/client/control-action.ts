import { WorkflowUpdateFailedError } from '@temporalio/client';
import { pauseUpdate, resizeUpdate } from '../workflows/messages';
import { dispatchIdOf } from '../workflow-ids';
import { EXIT, ExitError, type Session } from './common';
import { newDispatchId } from './ids';
import { launch, type LaunchFlags } from './launch';
import { dispatchHandle, isRunning, outcomeOf, type DispatchHandle } from './watch';

async function runningHandle(session: Session, id: string): Promise<[DispatchHandle, string]> {
  const dispatchId = dispatchIdOf(id);
  const handle = dispatchHandle(await session.temporal(), dispatchId);
  if (!(await isRunning(handle))) throw new ExitError(`dispatch ${dispatchId} is not running`, EXIT.failed);
  return [handle, dispatchId];
}

/** An Update's validator or handler said no: show its reason, not a stack. */
async function update<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError)
      throw new ExitError(err.cause?.message ?? err.message, EXIT.input);
    throw err;
  }
}

/** `resize`: a new window for a running dispatch. */
export async function resizeDispatch(session: Session, id: string, workers: number): Promise<void> {
  const [handle, dispatchId] = await runningHandle(session, id);
  const answer = await update(() => handle.executeUpdate(resizeUpdate, { args: [workers] }));
  console.log(`dispatch ${dispatchId}: num_parallel_workers ${answer.previous} -> ${answer.current}`);
}

/** `pause` and `resume`. */
export async function pauseDispatch(session: Session, id: string, paused: boolean): Promise<void> {
  const [handle, dispatchId] = await runningHandle(session, id);
  const answer = await update(() => handle.executeUpdate(pauseUpdate, { args: [paused] }));
  console.log(`dispatch ${dispatchId} ${paused ? 'paused' : 'resumed'}; ${answer.running} jobs running`);
}

/** `retry`: a new dispatch over the stored plan of a finished one. */
export async function retryDispatch(
  session: Session,
  id: string,
  flags: LaunchFlags & { num_parallel_workers?: number },
): Promise<number> {
  const fromId = dispatchIdOf(id);
  const client = await session.temporal();
  const handle = dispatchHandle(client, fromId);
  if (await isRunning(handle))
    throw new ExitError(`dispatch ${fromId} is still running: wait for it or cancel it first`, EXIT.input);
  const previous = (await outcomeOf(handle)).progress;
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
        },
        analysis_names: names,
      },
      analysisNames: names,
      summary: `retry of ${fromId} · ${names.join(', ')}`,
      details: `Reruns the tasks of dispatch ${fromId} that failed or never ran.`,
    },
    flags,
  );
}
