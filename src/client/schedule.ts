import type { Command } from 'commander';
import type { DispatchFlags } from '../planning/options';
import { EXIT_CODES_HELP, runCommand } from './common';
import { addDispatchOptions } from './dispatch-flags';
import type * as Action from './schedule-action';

export type ScheduleFlags = { json?: boolean; note?: string; wait?: boolean };
export type CreateFlags = DispatchFlags & {
  cron?: string;
  every?: string;
  interval?: string;
  paused?: boolean;
  note?: string;
  json?: boolean;
};

// The commands' bodies, with the Temporal client, load only when one runs: `--help` stays instant.
const load = () => require('./schedule-action') as typeof Action;

export function registerSchedule(program: Command): void {
  const schedule = program
    .command('schedule')
    .description(
      'Rerun a dispatch on a cron expression or an interval, as a Temporal Schedule; only new or changed tasks run.',
    );

  addDispatchOptions(
    schedule
      .command('create')
      .description('Create a schedule running a dispatch with these flags; the files they name are read now.')
      .argument('<schedule_id>', 'a name for the schedule: letters, digits, ".", "_", "-"'),
  )
    .option('--cron <expression>', 'when to run, as cron in UTC, e.g. "0 3 * * *" (03:00 every day)')
    .option('--every <interval>', 'when to run, as an interval, e.g. 30m, 1h, 1d; 1h/15m: at a quarter past')
    .option('--interval <interval>', "the same as --every (the Temporal CLI's name)")
    .option('--note <text>', 'a note shown with the schedule')
    .option('--paused', 'create it paused (trigger still runs it)')
    .option('--json', 'print machine-readable JSON')
    .action((id: string, flags: CreateFlags) =>
      runCommand((session) => load().createAction(session, id, flags)),
    );

  schedule
    .command('list')
    .description('List dispatch schedules: spec, paused, next run, last run and its status.')
    .option('--json', 'print machine-readable JSON')
    .action((flags: ScheduleFlags) => runCommand((session) => load().listAction(session, flags)));

  schedule
    .command('describe')
    .description('Show a schedule: spec, state, what it dispatches, next runs and recent runs.')
    .argument('<schedule_id>')
    .option('--json', 'print machine-readable JSON')
    .action((id: string, flags: ScheduleFlags) =>
      runCommand((session) => load().describeAction(session, id, flags)),
    );

  for (const [name, description] of [
    ['pause', 'Stop the scheduled runs until unpaused; a run already started goes on, trigger still works.'],
    ['unpause', 'Resume the scheduled runs of a paused schedule.'],
  ] as const) {
    schedule
      .command(name)
      .description(description)
      .argument('<schedule_id>')
      .option('--note <text>', 'why, shown with the schedule')
      .action((id: string, flags: ScheduleFlags) =>
        runCommand((session) => load().pauseAction(session, id, name, flags)),
      );
  }

  schedule
    .command('trigger')
    .description(
      "Run a schedule's dispatch now; if its previous run is still going, the run is skipped (overlap policy).",
    )
    .argument('<schedule_id>')
    .option('--wait', 'follow the dispatch to its end; exit 0 only if it succeeded')
    .option('--json', 'print machine-readable JSON')
    .addHelpText('after', EXIT_CODES_HELP)
    .action((id: string, flags: ScheduleFlags) =>
      runCommand((session) => load().triggerAction(session, id, flags)),
    );

  schedule
    .command('delete')
    .description('Delete a schedule; a run already started goes on (stop it with npx analysis cancel).')
    .argument('<schedule_id>')
    .action((id: string) => runCommand((session) => load().deleteAction(session, id)));
}
