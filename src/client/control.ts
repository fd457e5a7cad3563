import type { Command } from 'commander';
import { EXIT_CODES_HELP, parsePositiveInt, runCommand } from './common';
import type * as Action from './control-action';
import type { LaunchFlags } from './launch';

// The commands' bodies, with the Temporal client, load only when one runs: `--help` stays instant.
const load = () => require('./control-action') as typeof Action;

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
      runCommand((session) => load().resizeDispatch(session, id, flags.num_parallel_workers)),
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
      .action((id: string) => runCommand((session) => load().pauseDispatch(session, id, paused)));
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
      runCommand((session) => load().retryDispatch(session, id, flags)),
    );
}
