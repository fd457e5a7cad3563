import type { Command } from 'commander';
import { webUiUrl } from '../temporal';
import { dispatchIdOf, dispatchWorkflowId } from '../workflow-ids';
import { runCommand } from './common';
import { EXIT_CODES_HELP, reportOutcome, type Outcome, type OutcomeView } from './outcome';
import { phaseLine, planLines } from './summary';
import { announce, dispatchHandle, isRunning, outcomeOf, tryQuery, watchDispatch } from './watch';

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('Show the counts, rate, failures and Web UI link of a dispatch.')
    .argument('<dispatch_id>', 'the id printed by `dispatch` (or its workflow id dispatch-<id>)')
    .option('--watch', 'follow it live with a progress bar until it ends')
    .option('--json', 'print machine-readable JSON')
    .addHelpText('after', EXIT_CODES_HELP)
    .action((id: string, flags: { watch?: boolean; json?: boolean }) =>
      runCommand(async (session) => {
        const dispatchId = dispatchIdOf(id);
        const handle = dispatchHandle(await session.temporal(), dispatchId);
        const view: OutcomeView = {
          dispatchId,
          url: webUiUrl(session.config, 'workflows', dispatchWorkflowId(dispatchId)),
          json: flags.json === true,
        };
        if (flags.watch) return watchDispatch(handle, session.config.TEMPORAL_TASK_QUEUE, view);
        const outcome: Outcome = (await isRunning(handle))
          ? { status: 'running', progress: await tryQuery(handle) }
          : await outcomeOf(handle);
        const progress = outcome.progress;
        announce(view);
        if (progress && !view.json) {
          if (progress.plan) for (const line of planLines(progress.plan)) console.log(line);
          console.log(phaseLine(progress));
        }
        return reportOutcome(outcome, view);
      }),
    );
}
