import type { Command } from 'commander';
import type { DispatchFlags } from '../planning/options';
import { EXIT_CODES_HELP, runCommand } from './common';
import type * as Action from './dispatch-action';
import { addDispatchOptions } from './dispatch-flags';
import type { LaunchFlags } from './launch';

// The command's body, with the libraries it needs, loads only when it runs: `--help` stays instant.
const load = () => require('./dispatch-action') as typeof Action;

export function registerDispatch(program: Command): void {
  addDispatchOptions(
    program
      .command('dispatch')
      .description(
        'Plan the tasks and run them as jobs on the workers; prints the dispatch id and its Web UI link.',
      ),
  )
    .option('--wait', 'follow the dispatch with a progress bar and a summary; exit 0 only if it succeeded')
    .option('--json', 'print machine-readable JSON instead of text')
    .option(
      '--output_dir <dir>',
      'also write each planned task as an AnalysisDispatchModel JSON file: DIR/worker_<n>/<uuid>.json, or DIR/<job_index>/<uuid>.json with --tasks_per_job above 1',
    )
    .addHelpText('after', EXIT_CODES_HELP)
    .action((flags: DispatchFlags & LaunchFlags) =>
      runCommand((session) => load().runDispatch(session, flags)),
    );
}
