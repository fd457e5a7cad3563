import { Command, type OutputConfiguration } from 'commander';
import type { DispatchFlags } from '../request/options';
import type * as Cancel from './cancel';
import { parsePositiveInt, reportError, runCommand } from './common';
import { InputError } from '../errors';
import type * as Control from './control';
import type * as Dispatch from './dispatch';
import { addDispatchOptions, addFleetOptions } from './dispatch-flags';
import type { LaunchFlags } from './launch';
import type * as Plan from './plan';
import type * as Report from './report';
import type * as Results from './results/list';
import type * as Retry from './retry';
import type * as ScheduleCreate from './schedule/create';
import type * as Setup from './setup';
import type * as ScheduleDelete from './schedule/delete';
import type * as ScheduleDescribe from './schedule/describe';
import type * as ScheduleList from './schedule/list';
import type * as SchedulePause from './schedule/pause';
import type * as ScheduleTrigger from './schedule/trigger';
import type * as Status from './status';
import type * as Worker from './worker';
import type * as Usage from './usage';

/**
 * Each command's body, required when the command runs: `--help` and the other commands never load
 * the libraries a body needs (the Temporal SDK and its native bridge, the database driver, the S3
 * client, the schemas). Only these declarations, commander and the cheap helpers they name load at start.
 */
export const bodies = {
  dispatch: () => require('./dispatch') as typeof Dispatch,
  plan: () => require('./plan') as typeof Plan,
  status: () => require('./status') as typeof Status,
  cancel: () => require('./cancel') as typeof Cancel,
  control: () => require('./control') as typeof Control,
  retry: () => require('./retry') as typeof Retry,
  results: () => require('./results/list') as typeof Results,
  report: () => require('./report') as typeof Report,
  usage: () => require('./usage') as typeof Usage,
  scheduleCreate: () => require('./schedule/create') as typeof ScheduleCreate,
  scheduleList: () => require('./schedule/list') as typeof ScheduleList,
  scheduleDescribe: () => require('./schedule/describe') as typeof ScheduleDescribe,
  schedulePause: () => require('./schedule/pause') as typeof SchedulePause,
  scheduleTrigger: () => require('./schedule/trigger') as typeof ScheduleTrigger,
  scheduleDelete: () => require('./schedule/delete') as typeof ScheduleDelete,
  worker: () => require('./worker') as typeof Worker,
  setup: () => require('./setup') as typeof Setup,
};

/** The exit codes as the `--help` of commands that follow a dispatch tells them; README "Exit codes". */
const EXIT_CODES_HELP =
  '\nExit codes: 0 succeeded, 1 failed (or a server could not be reached), 2 bad input (nothing written), 3 cancelled, 4 completed with tolerated failures.';

/** The original tools spelled flags in snake_case; accept kebab-case too by normalising it. */
export function normaliseFlags(argv: string[]): string[] {
  const end = argv.indexOf('--');
  return argv.map((arg, i) => {
    if ((end !== -1 && i >= end) || !arg.startsWith('--')) return arg;
    const [name = '', ...value] = arg.split('=');
    const normal = '--' + name.slice(2).replace(/-/g, '_');
    return [normal, ...value].join('=');
  });
}

/**
 * The whole command line. Commander's own refusals (an unknown flag or command, a missing
 * argument or required option) are thrown rather than exiting, so they take the path of every
 * other bad input: reportError turns them into exit code 2. Subcommands inherit both settings, so
 * they are made before the commands are declared.
 */
export function buildProgram(output?: Partial<OutputConfiguration>): Command {
  const program = new Command('analysis')
    .description('Run one analysis over many data assets, durably, on Temporal.')
    .exitOverride()
    .showHelpAfterError()
    .configureHelp({ sortSubcommands: false });
  if (output) program.configureOutput(output);
  declareDispatching(program);
  declareFollowing(program);
  declareControl(program);
  declareRecords(program);
  declareUsage(program);
  declareSchedule(program);
  declareWorker(program);
  declareSetup(program);
  return program;
}

/** `dispatch` and `plan`. */
function declareDispatching(program: Command): void {
  addFleetOptions(
    addDispatchOptions(
      program
        .command('dispatch')
        .description(
          'Plan the tasks and run them as jobs on the workers; prints the dispatch id and its Web UI link.',
        ),
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
      runCommand((session) => bodies.dispatch().runDispatch(session, flags)),
    );

  addDispatchOptions(
    program
      .command('plan')
      .description(
        'Show what a dispatch with these flags would do (new / already done / changed code), running nothing.',
      ),
  )
    .option('--json', 'print the counts and the full task list as JSON')
    .option(
      '--explain',
      'name, field by field, why each task runs: what differs from the latest record of the same inputs, or the commit of code that differs',
    )
    .action((flags: DispatchFlags & { json?: boolean; explain?: boolean }) =>
      runCommand((session) => bodies.plan().planPreview(session, flags)),
    );
}

/** `status` and `cancel`. */
function declareFollowing(program: Command): void {
  program
    .command('status')
    .description('Show the counts, rate, failures (grouped by cause) and Web UI link of a dispatch.')
    .argument('<dispatch_id>', 'the id printed by `dispatch` (or its workflow id dispatch-<id>)')
    .option('--watch', 'follow it live with a progress bar until it ends')
    .option('--json', 'print machine-readable JSON')
    .addHelpText('after', EXIT_CODES_HELP)
    .action((id: string, flags: { watch?: boolean; json?: boolean }) =>
      runCommand((session) => bodies.status().showStatus(session, id, flags)),
    );

  program
    .command('cancel')
    .description(
      'Cancel a dispatch and its running jobs (running analyses are stopped); waits until they have stopped.',
    )
    .argument('<dispatch_id>', 'the id printed by `dispatch`')
    .option('--json', 'print machine-readable JSON')
    .action((id: string, flags: { json?: boolean }) =>
      runCommand((session) => bodies.cancel().cancelDispatch(session, id, flags)),
    );
}

/** `resize`, `pause`, `resume` and `retry`. */
function declareControl(program: Command): void {
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
      runCommand((session) => bodies.control().resizeDispatch(session, id, flags.num_parallel_workers)),
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
      .action((id: string) => runCommand((session) => bodies.control().pauseDispatch(session, id, paused)));
  }

  addFleetOptions(program.command('retry'), true)
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
    .action((id: string, flags: Retry.RetryFlags) =>
      runCommand((session) => bodies.retry().retryDispatch(session, id, flags)),
    );
}

/** `results` and `report`. */
function declareRecords(program: Command): void {
  program
    .command('results')
    .description(
      'List analysis records in hash order, filtered and paged, as a table, JSON or CSV; fetch their result files. The table fits 120 columns (hash, analysis, assets, finish time, outputs; long values cut with "…"); --json and --csv hold the whole records, location and resources included.',
    )
    .option('--analysis_name <name>', 'only records of this analysis')
    .option('--analysis_version <version>', 'only records of this analysis version')
    .option('--asset_name <name>', 'only records whose input includes this asset')
    .option('--dispatch_id <id>', 'only records written by this dispatch')
    .option('--json', 'print the whole records as a JSON array')
    .option('--csv', 'print the records as CSV, whole values, one line each')
    .option('--limit <n>', 'records per page', '50')
    .option('--page <k>', 'page number, from 1 (prefer --after on large collections)')
    .option('--after <hash>', 'start after this hash: the cursor printed as "next: --after ..."')
    .option('--download <dir>', "fetch the listed records' result files into DIR/<hash>/")
    .option('--hash <hash>', 'with --download: only this record (a full hash or a unique prefix)')
    .action((flags: Results.ResultsFlags) =>
      runCommand((session) => bodies.results().results(flags, session)),
    );

  program
    .command('report')
    .description(
      'Write one self-contained HTML page about a dispatch: plan and outcome, jobs over time, throughput, task durations, failures by cause, resources used.',
    )
    .argument('<dispatch_id>', 'the id printed by `dispatch` (or its workflow id dispatch-<id>)')
    .option('--out <file>', 'where to write it (FILE.html; with --json, the JSON)')
    .option('--json', 'write the same data as JSON (to --out, or to stdout)')
    .action((id: string, flags: { out?: string; json?: boolean }) =>
      runCommand((session) => bodies.report().writeReport(session, id, flags)),
    );
}

/** `usage`: what the fleet ran, summed. */
function declareUsage(program: Command): void {
  program
    .command('usage')
    .description(
      'Sum the tasks, CPU-hours, wall-hours and bytes written of the runs recorded in a period, by experimenter, analysis or dispatch.',
    )
    .option(
      '--since <period|date>',
      'runs that finished in the last 30d, 12h, 2w, or since a date (2026-11-01)',
      '30d',
    )
    .option('--by <grouping>', 'experimenter, analysis or dispatch', 'experimenter')
    .option('--json', 'print the sums as JSON')
    .option('--csv', 'print the sums as CSV')
    .action((flags: Usage.UsageFlags) => runCommand((session) => bodies.usage().showUsage(session, flags)));
}

/** `schedule` and its subcommands. */
function declareSchedule(program: Command): void {
  const schedule = program
    .command('schedule')
    .description(
      'Rerun a dispatch on a cron expression or an interval, as a Temporal Schedule; only new or changed tasks run.',
    );

  addFleetOptions(
    addDispatchOptions(
      schedule
        .command('create')
        .description(
          'Create a schedule running a dispatch with these flags; the files they name are read now.',
        )
        .argument('<schedule_id>', 'a name for the schedule: letters, digits, ".", "_", "-"'),
    ),
  )
    .option('--cron <expression>', 'when to run, as cron in UTC, e.g. "0 3 * * *" (03:00 every day)')
    .option('--every <interval>', 'when to run, as an interval, e.g. 30m, 1h, 1d; 1h/15m: at a quarter past')
    .option('--interval <interval>', "the same as --every (the Temporal CLI's name)")
    .option('--note <text>', 'a note shown with the schedule')
    .option('--paused', 'create it paused (trigger still runs it)')
    .option('--json', 'print machine-readable JSON')
    .action((id: string, flags: ScheduleCreate.CreateFlags) =>
      runCommand((session) => bodies.scheduleCreate().createAction(session, id, flags)),
    );

  schedule
    .command('list')
    .description('List dispatch schedules: spec, paused, next run, last run and its status.')
    .option('--json', 'print machine-readable JSON')
    .action((flags: { json?: boolean }) =>
      runCommand((session) => bodies.scheduleList().listAction(session, flags)),
    );

  schedule
    .command('describe')
    .description('Show a schedule: spec, state, what it dispatches, next runs and recent runs.')
    .argument('<schedule_id>')
    .option('--json', 'print machine-readable JSON')
    .action((id: string, flags: { json?: boolean }) =>
      runCommand((session) => bodies.scheduleDescribe().describeAction(session, id, flags)),
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
      .action((id: string, flags: { note?: string }) =>
        runCommand((session) => bodies.schedulePause().pauseAction(session, id, name, flags)),
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
    .action((id: string, flags: ScheduleTrigger.TriggerFlags) =>
      runCommand((session) => bodies.scheduleTrigger().triggerAction(session, id, flags)),
    );

  schedule
    .command('delete')
    .description('Delete a schedule; a run already started goes on (stop it with analysis cancel).')
    .argument('<schedule_id>')
    .action((id: string) => runCommand((session) => bodies.scheduleDelete().deleteAction(session, id)));
}

/** A TCP port to listen on, 1..65535. */
function parsePort(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || n < 1 || n > 65535) {
      throw new InputError(`${flag} must be a port number from 1 to 65535, got "${value}"`);
    }
    return n;
  };
}

function declareWorker(program: Command): void {
  program
    .command('worker')
    .description('Run a worker: dispatch and job workflows, planning, analyses and uploads.')
    .option(
      '--pools <names>',
      'worker pools served besides the default, comma-separated (e.g. gpu,highmem): this worker also runs the analyses that name one of them; default: ANALYSIS_WORKER_POOLS, else none',
    )
    .option(
      '--metrics_port <port>',
      "serve Prometheus metrics on this port (all interfaces, path /metrics): the Temporal SDK's and the analyses' (runs, run times, bytes uploaded, run slots held)",
      parsePort('--metrics_port'),
    )
    .addHelpText(
      'after',
      [
        '',
        'Run one per machine (or more); all workers on the same TEMPORAL_TASK_QUEUE share the work.',
        'Every worker serves the default pool (workflows, planning, analyses that name no pool). An',
        'analysis whose registration names a pool runs only on workers started with that pool in',
        '--pools, polling the task queue <TEMPORAL_TASK_QUEUE>-pool-<name>; until one runs, its tasks wait.',
        'Stops cleanly on SIGINT/SIGTERM, finishing or handing back what it holds.',
      ].join('\n'),
    )
    .action((flags: { pools?: string; metrics_port?: number }) =>
      runCommand(({ config }) => bodies.worker().runWorker(config, flags)),
    );
}

function declareSetup(program: Command): void {
  program
    .command('setup')
    .description(
      'Register what the project needs on the namespace: its search attributes, and on a self-hosted server the namespace itself.',
    )
    .option(
      '--retention_days <days>',
      'how long a namespace this command creates keeps closed workflows (default: 30)',
      parsePositiveInt('--retention_days'),
    )
    .addHelpText(
      'after',
      [
        '',
        'Connects as the workers and the CLI do (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,',
        'temporal.toml profiles) and registers the search attributes DispatchId, AnalysisName and RetryOf',
        '(Keyword) through the operator service; what is there already is left as it is, so running it',
        'again is safe. On Temporal Cloud (a *.tmprl.cloud or *.api.temporal.io address, or an API key) it',
        'only checks, and prints the tcld commands or web-console steps for what is missing.',
        'Run it once per namespace before the first worker starts. The local dev server needs none of it.',
        '',
        'Exit codes: 0 ready, 1 not ready (steps printed) or a server could not be reached, 2 bad input.',
      ].join('\n'),
    )
    .action((flags: { retention_days?: number }) => runCommand(() => bodies.setup().runSetup(flags)));
}

async function main(): Promise<void> {
  await buildProgram().parseAsync(normaliseFlags(process.argv));
}

if (
  require.main === module ||
  process.argv[1]?.endsWith('analysis.js') ||
  process.argv[1]?.endsWith('analysis')
) {
  main().catch((err) => {
    process.exitCode = reportError(err);
  });
}
