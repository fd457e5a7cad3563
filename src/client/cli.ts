import { Command } from 'commander';
import { registerCancel } from './cancel';
import { registerControl } from './control';
import { reportError } from './common';
import { registerDispatch } from './dispatch';
import { registerPlan } from './plan';
import { registerReport } from './report';
import { registerResults } from './results';
import { registerSchedule } from './schedule';
import { registerStatus } from './status';
import { registerWorker } from './worker';

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

export function buildProgram(): Command {
  const program = new Command('analysis')
    .description('Run one analysis over many data assets, durably, on Temporal.')
    .showHelpAfterError()
    .configureHelp({ sortSubcommands: false });
  registerDispatch(program);
  registerPlan(program);
  registerStatus(program);
  registerCancel(program);
  registerControl(program);
  registerResults(program);
  registerReport(program);
  registerSchedule(program);
  registerWorker(program);
  return program;
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
