import { ScheduleNotFoundError, type Client, type ScheduleHandle } from '@temporalio/client';
import type { Command } from 'commander';
import { buildDispatchRequest, type DispatchFlags } from '../planning/options';
import { webUiUrl } from '../temporal';
import { EXIT, ExitError, runCommand, type Session } from './common';
import { addDispatchOptions } from './dispatch-flags';
import { dispatchIdOf } from '../workflow-ids';
import { EXIT_CODES_HELP } from './outcome';
import { createSchedule, scheduledRequest, scheduledRequestId } from './schedule-create';
import { createRequestStore } from '../planning/request-store';
import { scheduledWorkflowId } from '../workflow-ids';
import { checkScheduleId, scheduleTiming } from './schedule-spec';
import { describeText, describeView, listTable, scheduledRun, scheduleRow } from './schedule-view';
import { trigger } from './schedule-trigger';

type Flags = { json?: boolean; note?: string; wait?: boolean };
type CreateFlags = DispatchFlags & {
  cron?: string;
  every?: string;
  interval?: string;
  paused?: boolean;
  note?: string;
  json?: boolean;
};

const requestStore = async (session: Session) =>
  createRequestStore((await session.mongo()).db(session.config.DOCDB_DATABASE));

/** Runs `body` on an existing schedule; a missing one is a clear error rather than a gRPC trace. */
function onSchedule(
  id: string,
  body: (handle: ScheduleHandle, client: Client, session: Session) => Promise<number | void>,
) {
  return runCommand(async (session) => {
    const client = await session.temporal();
    try {
      return await body(client.schedule.getHandle(id), client, session);
    } catch (err) {
      if (err instanceof ScheduleNotFoundError)
        throw new ExitError(`no schedule "${id}" (see npx analysis schedule list)`, EXIT.input);
      throw err;
    }
  });
}

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
      runCommand(async (session) => {
        const scheduleId = checkScheduleId(id);
        const timing = scheduleTiming(flags);
        const request = buildDispatchRequest(flags, session.config);
        await createSchedule(session, {
          scheduleId,
          timing,
          request,
          paused: flags.paused === true,
          note: flags.note,
        });
        const description = await (await session.temporal()).schedule.getHandle(scheduleId).describe();
        const next = description.info.nextActionTimes[0]?.toISOString();
        const url = webUiUrl(session.config, 'schedules', scheduleId);
        if (flags.json) {
          console.log(
            JSON.stringify(
              {
                schedule_id: scheduleId,
                spec: timing.text,
                paused: flags.paused === true,
                next_run: next,
                url,
              },
              null,
              2,
            ),
          );
          return;
        }
        console.log(
          `schedule ${scheduleId} created${flags.paused ? ' (paused)' : ''}: ${timing.text}, overlapping runs skipped`,
        );
        console.log(flags.paused ? 'next run  none while paused' : `next run  ${next ?? '-'}`);
        console.log(
          `runs      ${scheduledWorkflowId(scheduleId)}-<time>; their dispatch ids are sched-${scheduleId}-<time>`,
        );
        console.log(`web ui    ${url}`);
      }),
    );

  schedule
    .command('list')
    .description('List dispatch schedules: spec, paused, next run, last run and its status.')
    .option('--json', 'print machine-readable JSON')
    .action((flags: Flags) =>
      runCommand(async (session) => {
        const client = await session.temporal();
        const rows = [];
        // Other schedules may share the namespace: only those that start dispatches are ours.
        for await (const summary of client.schedule.list()) {
          if (summary.action?.workflowType === 'dispatch') rows.push(await scheduleRow(client, summary));
        }
        rows.sort((a, b) => a.schedule_id.localeCompare(b.schedule_id));
        if (flags.json) console.log(JSON.stringify(rows, null, 2));
        else if (rows.length === 0)
          console.error('no schedules (create one: npx analysis schedule create --help)');
        else console.log(listTable(rows));
      }),
    );

  schedule
    .command('describe')
    .description('Show a schedule: spec, state, what it dispatches, next runs and recent runs.')
    .argument('<schedule_id>')
    .option('--json', 'print machine-readable JSON')
    .action((id: string, flags: Flags) =>
      onSchedule(id, async (handle, client, session) => {
        const description = await handle.describe();
        const recent = await Promise.all(
          description.info.recentActions.map((action) => scheduledRun(client, action)),
        );
        const request = await scheduledRequest(description.action.args, await requestStore(session));
        const view = describeView(description, recent, webUiUrl(session.config, 'schedules', id), request);
        console.log(flags.json ? JSON.stringify(view, null, 2) : describeText(view));
      }),
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
      .action((id: string, flags: Flags) =>
        onSchedule(id, async (handle) => {
          const note = flags.note ?? `${name}d with npx analysis schedule ${name}`;
          await (name === 'pause' ? handle.pause(note) : handle.unpause(note));
          console.log(`schedule ${id} ${name}d`);
        }),
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
    .action((id: string, flags: Flags) =>
      onSchedule(id, (handle, client, session) => trigger(handle, client, session, flags)),
    );

  schedule
    .command('delete')
    .description('Delete a schedule; a run already started goes on (stop it with npx analysis cancel).')
    .argument('<schedule_id>')
    .action((id: string) =>
      onSchedule(id, async (handle, _client, session) => {
        const description = await handle.describe();
        const running = description.info.runningActions;
        await handle.delete();
        // The saved request goes with the schedule, unless a run still under way may yet plan it.
        const requestId = scheduledRequestId(description.action.args);
        if (requestId && running.length === 0) await (await requestStore(session)).delete(requestId);
        console.log(`schedule ${id} deleted`);
        for (const action of running)
          console.log(`still running: ${dispatchIdOf(action.workflow.workflowId)}`);
      }),
    );
}
