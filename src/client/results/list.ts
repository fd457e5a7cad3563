import type { Config } from '../../config';
import { EXIT } from '../../dispatch-outcome';
import { InputError } from '../../errors';
import { createS3 } from '../../storage/s3';
import type { StoredRecord } from '../../types';
import { dispatchIdOf } from '../../workflow-ids';
import { ExitError, parsePositiveInt, type Session } from '../common';
import { downloadRecord, type Downloaded } from './download';
import { csvHeader, csvRecord, resultsTable } from './format';
import { printable } from '../terminal-text';
import { cursorOfPage, fetchPage, findByHash, recordFilter, type RecordPage } from './query';

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

function checkFlags(flags: ResultsFlags): void {
  if (flags.json && flags.csv) throw new InputError('choose one output format: --json or --csv');
  if (flags.page !== undefined && flags.after !== undefined)
    throw new InputError('give --page or --after, not both');
  if (flags.hash !== undefined && flags.download === undefined)
    throw new InputError('--hash selects a record for --download DIR');
  if (flags.download !== undefined && flags.download.trim() === '')
    throw new InputError('--download needs a folder');
}

/** `results`: the records the flags select, printed or downloaded; the exit code. */
export async function results(flags: ResultsFlags, session: Session): Promise<number> {
  checkFlags(flags);
  const limit = parsePositiveInt('--limit')(flags.limit);
  const page = flags.page === undefined ? 1 : parsePositiveInt('--page')(flags.page);
  const { config } = session;
  const records = (await session.mongo())
    .db(config.DOCDB_DATABASE)
    .collection<StoredRecord>(config.DOCDB_COLLECTION);

  if (flags.hash !== undefined) {
    const found = await findByHash(records, flags.hash.trim());
    if (found === 'none') throw new ExitError(`no record with hash ${flags.hash}`, EXIT.input);
    if (found === 'ambiguous')
      throw new ExitError(`several records start with ${flags.hash}: give more of the hash`, EXIT.input);
    return download([found], flags.download!, config, flags.json === true);
  }

  const filter = recordFilter({
    analysis_name: flags.analysis_name,
    analysis_version: flags.analysis_version,
    asset_name: flags.asset_name,
    dispatch_id: flags.dispatch_id === undefined ? undefined : dispatchIdOf(flags.dispatch_id),
  });
  const after = flags.after ?? (await cursorOfPage(records, filter, limit, page));
  const found: RecordPage = after === null ? { records: [] } : await fetchPage(records, filter, limit, after);
  if (after === null) console.error(`page ${page} is past the last record`);

  if (flags.download !== undefined)
    return download(found.records, flags.download, config, flags.json === true, found.next);
  print(found, flags);
  return EXIT.ok;
}

function print(found: RecordPage, flags: ResultsFlags): void {
  // The hint goes to stderr with --json and --csv so that stdout stays machine-readable.
  const hint = found.next === undefined ? undefined : `next: --after ${found.next}`;
  if (flags.json) console.log(JSON.stringify(found.records, null, 2));
  else if (flags.csv) for (const line of [csvHeader(), ...found.records.map(csvRecord)]) console.log(line);
  else if (found.records.length === 0) console.error('no records match');
  else console.log(resultsTable(found.records));
  if (hint) (flags.json || flags.csv ? console.error : console.log)(hint);
}

async function download(
  records: StoredRecord[],
  dir: string,
  config: Config,
  json: boolean,
  next?: string,
): Promise<number> {
  const s3 = createS3(config);
  const done: Downloaded[] = [];
  try {
    for (const record of records) {
      const result = await downloadRecord(s3, record, dir);
      done.push(result);
      if (!json) console.log(printable(`${record._id.slice(0, 12)}  ${result.files} files -> ${result.dir}`));
      for (const key of result.refused)
        console.error(printable(`warning: refused ${key}: it would be written outside ${result.dir}`));
    }
  } finally {
    s3.destroy();
  }
  if (json) console.log(JSON.stringify(done, null, 2));
  else if (records.length === 0) console.error('no records match: nothing downloaded');
  if (next !== undefined) console.error(`next: --after ${next}`);
  return done.some((result) => result.refused.length > 0) ? EXIT.failed : EXIT.ok;
}
