import type { Command } from 'commander';
import { workflowUrl } from '../temporal';
import { runCommand } from './common';
import { dispatchIdOf, dispatchWorkflowId } from './ids';
import { planLines, summaryTable } from './summary';
import { dispatchHandle, exitCodeOf, follow, isRunning, outcomeOf, tryQuery, type Outcome } from './watch';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('Show the counts, rate, failures and Web UI link of a dispatch.')
    .argument('<dispatch_id>', 'the id printed by `dispatch` (or its workflow id dispatch-<id>)')
    .option('--watch', 'follow it live with a progress bar until it ends')
    .option('--json', 'print machine-readable JSON')
    .action((id: string, flags: { watch?: boolean; json?: boolean }) =>
      runCommand(async (session) => {
        const dispatchId = dispatchIdOf(id);
        const client = await session.temporal();
        const handle = dispatchHandle(client, dispatchId);
        const url = workflowUrl(session.config, dispatchWorkflowId(dispatchId));
        let outcome: Outcome;
        if (flags.watch) outcome = await follow(handle, { bar: !flags.json });
        else if (await isRunning(handle)) outcome = { status: 'running', progress: await tryQuery(handle) };
        else outcome = await outcomeOf(handle);
        const progress = outcome.progress;
        const elapsed = progress ? (Date.now() - progress.startedAt) / 1000 : 0;
        const rate = progress && elapsed > 0 ? progress.tasksFinished / elapsed : 0;
        if (flags.json) {
          console.log(
            JSON.stringify(
              { dispatch_id: dispatchId, url, elapsed_s: elapsed, tasks_per_s: rate, ...outcome },
              null,
              2,
            ),
          );
        } else {
          if (progress?.plan) for (const line of planLines(progress.plan)) console.log(line);
          if (progress) {
            console.log(
              `phase ${progress.phase}: ${progress.tasksFinished}/${progress.plan?.tasks_to_run ?? '?'} tasks finished, ${progress.running} of ${progress.numParallelWorkers} jobs running, ${rate.toFixed(2)} tasks/s`,
            );
          }
          console.log(summaryTable(outcome));
          console.log(`web ui ${url}`);
        }
        return exitCodeOf(outcome);
      }),
    );
}
