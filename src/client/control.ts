import type { Command } from 'commander';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { pauseUpdate, resizeUpdate } from '../workflows/messages';
import { EXIT, ExitError, parsePositiveInt, runCommand } from './common';
import { newDispatchId } from './ids';
import { dispatchIdOf } from '../workflow-ids';
import { launch, type LaunchFlags } from './launch';
import { EXIT_CODES_HELP } from './outcome';
import { dispatchHandle, isRunning, outcomeOf, type DispatchHandle } from './watch';

async function runningHandle(handle: DispatchHandle, dispatchId: string): Promise<DispatchHandle> {
  if (!(await isRunning(handle))) throw new ExitError(`dispatch ${dispatchId} is not running`, EXIT.failed);
  return handle;
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

export function registerControl(program: Command): void {
  program
    .command('resize')
    .description(
      'Change num_parallel_workers of a running dispatch: raising takes effect at once, lowering as jobs finish.',
    )
    .argument('<dispatch_id>')
    .requiredOption(
      '--num_parallel_workers <n>',
      'the new number of jobs running at once (>= 1)',
      parsePositiveInt('--num_parallel_workers'),
    )
    .action((id: string, flags: { num_parallel_workers: number }) =>
      runCommand(async (session) => {
        const dispatchId = dispatchIdOf(id);
        const handle = await runningHandle(dispatchHandle(await session.temporal(), dispatchId), dispatchId);
        const answer = await update(() =>
          handle.executeUpdate(resizeUpdate, { args: [flags.num_parallel_workers] }),
        );
        console.log(`dispatch ${dispatchId}: num_parallel_workers ${answer.previous} -> ${answer.current}`);
      }),
    );

  for (const [name, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    program
      .command(name)
      .description(
        paused
          ? 'Stop starting new jobs of a dispatch; running jobs finish.'
          : 'Start jobs of a paused dispatch again.',
      )
      .argument('<dispatch_id>')
      .action((id: string) =>
        runCommand(async (session) => {
          const dispatchId = dispatchIdOf(id);
          const handle = await runningHandle(
            dispatchHandle(await session.temporal(), dispatchId),
            dispatchId,
          );
          const answer = await update(() => handle.executeUpdate(pauseUpdate, { args: [paused] }));
          console.log(
            `dispatch ${dispatchId} ${paused ? 'paused' : 'resumed'}; ${answer.running} jobs running`,
          );
        }),
      );
  }

  program
    .command('retry')
    .description(
      'Start a new dispatch over the plan of a finished one that runs only its tasks that failed or never ran.',
    )
    .argument('<dispatch_id>', 'the finished dispatch')
    .option(
      '--num_parallel_workers <n>',
      'jobs at once (default: as the first dispatch)',
      parsePositiveInt('--num_parallel_workers'),
    )
    .option('--wait', 'follow it with a progress bar and a summary; exit 0 only if it succeeded')
    .option('--json', 'print machine-readable JSON')
    .addHelpText('after', EXIT_CODES_HELP)
    .action((id: string, flags: LaunchFlags & { num_parallel_workers?: number }) =>
      runCommand(async (session) => {
        const fromId = dispatchIdOf(id);
        const client = await session.temporal();
        const handle = dispatchHandle(client, fromId);
        if (await isRunning(handle))
          throw new ExitError(
            `dispatch ${fromId} is still running: wait for it or cancel it first`,
            EXIT.input,
          );
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
              dispatch_id: newDispatchId(),
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
      }),
    );
}
