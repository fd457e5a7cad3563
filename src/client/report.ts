import type { Command } from 'commander';
import type * as Action from './report-action';
import { runCommand } from './common';

// The command's body, with the Temporal client and the database driver, loads only when it runs.
const load = () => require('./report-action') as typeof Action;

export function registerReport(program: Command): void {
  program
    .command('report')
    .description(
      'Write one self-contained HTML page about a dispatch: plan and outcome, jobs over time, throughput, task durations, failures by cause, resources used.',
    )
    .argument('<dispatch_id>', 'the id printed by `dispatch` (or its workflow id dispatch-<id>)')
    .option('--out <file>', 'where to write it (FILE.html; with --json, the JSON)')
    .option('--json', 'write the same data as JSON (to --out, or to stdout)')
    .action((id: string, flags: { out?: string; json?: boolean }) =>
      runCommand((session) => load().writeReport(session, id, flags)),
    );
}
