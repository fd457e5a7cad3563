import type { Command } from 'commander';
import { runCommand } from './common';
import type * as Action from './results-action';

// The command's body, with the driver and the S3 client, loads only when it runs.
const load = () => require('./results-action') as typeof Action;

export interface ResultsFlags {
  analysis_name?: string;
  analysis_version?: string;
  asset_name?: string;
  dispatch_id?: string;
  json?: boolean;
  csv?: boolean;
  limit: string;
  page?: string;
  after?: string;
  download?: string;
  hash?: string;
}

export function registerResults(program: Command): void {
  program
    .command('results')
    .description(
      'List analysis records in hash order, filtered and paged, as a table, JSON or CSV; fetch their result files.',
    )
    .option('--analysis_name <name>', 'only records of this analysis')
    .option('--analysis_version <version>', 'only records of this analysis version')
    .option('--asset_name <name>', 'only records whose input includes this asset')
    .option('--dispatch_id <id>', 'only records written by this dispatch')
    .option('--json', 'print the records as a JSON array')
    .option('--csv', 'print the records as CSV')
    .option('--limit <n>', 'records per page', '50')
    .option('--page <k>', 'page number, from 1 (prefer --after on large collections)')
    .option('--after <hash>', 'start after this hash: the cursor printed as "next: --after ..."')
    .option('--download <dir>', "fetch the listed records' result files into DIR/<hash>/")
    .option('--hash <hash>', 'with --download: only this record (a full hash or a unique prefix)')
    .action((flags: ResultsFlags) => runCommand((session) => load().results(flags, session)));
}
