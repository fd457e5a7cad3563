import { WorkflowUpdateFailedError } from '@temporalio/client';
import { pauseUpdate, resizeUpdate } from '../workflows/messages';
import { dispatchIdOf } from '../workflow-ids';
import { EXIT } from '../dispatch-outcome';
import { ExitError, type Session } from './common';
import { dispatchHandle, isRunning, type DispatchHandle } from './follow/reads';

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
