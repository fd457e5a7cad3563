import type { Command } from 'commander';
import type { DispatchFlags } from '../planning/options';
import { runCommand } from './common';
import { addDispatchOptions } from './dispatch-flags';
import type * as Action from './plan-action';

// The command's body, with the driver and the SDKs, loads only when it runs: `--help` stays instant.
const load = () => require('./plan-action') as typeof Action;

export function registerPlan(program: Command): void {
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
      runCommand((session) => load().planPreview(session, flags)),
    );
}
