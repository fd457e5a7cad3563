import type { Command } from 'commander';
import type * as Action from './status-action';
import { EXIT_CODES_HELP, runCommand } from './common';

// The command's body, with the Temporal client, loads only when it runs: `--help` stays instant.
const load = () => require('./status-action') as typeof Action;

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('Show the counts, rate, failures (grouped by cause) and Web UI link of a dispatch.')
    .argument('<dispatch_id>', 'the id printed by `dispatch` (or its workflow id dispatch-<id>)')
    .option('--watch', 'follow it live with a progress bar until it ends')
    .option('--json', 'print machine-readable JSON')
    .addHelpText('after', EXIT_CODES_HELP)
    .action((id: string, flags: { watch?: boolean; json?: boolean }) =>
      runCommand((session) => load().showStatus(session, id, flags)),
    );
}
