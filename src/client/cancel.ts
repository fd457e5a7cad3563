import type { Command } from 'commander';
import type * as Action from './cancel-action';
import { runCommand } from './common';

// The command's body, with the Temporal client, loads only when it runs: `--help` stays instant.
const load = () => require('./cancel-action') as typeof Action;

export function registerCancel(program: Command): void {
  program
    .command('cancel')
    .description(
      'Cancel a dispatch and its running jobs (running analyses are stopped); waits until they have stopped.',
    )
    .argument('<dispatch_id>', 'the id printed by `dispatch`')
    .option('--json', 'print machine-readable JSON')
    .action((id: string, flags: { json?: boolean }) =>
      runCommand((session) => load().cancelDispatch(session, id, flags)),
    );
}
