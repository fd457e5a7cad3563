import type { Collection, Filter } from 'mongodb';
import type { StoredRecord } from '../../types';

export interface RecordFilters {
  analysis_name?: string;
  analysis_version?: string;
  asset_name?: string;
  dispatch_id?: string;
}

export interface RecordPage {
  records: StoredRecord[];
  /** `_id` to pass as `--after` for the next page; absent on the last page. */
  next?: string;
}

/** Where records of the institute's current wrapper, which lack the project's fields, keep them. */
const WRAPPER_CODE = 'processing.data_processes.0.code';

/**
 * The project's field, or for a record without it (one the institute's wrapper wrote) the
 * wrapper's: so those records list beside the project's own.
 */
function eitherRecord(field: 'analysis_name' | 'analysis_version', value: string, wrapperField: string) {
  return { $or: [{ [field]: value }, { [field]: { $exists: false }, [wrapperField]: value }] };
}

export function recordFilter(filters: RecordFilters): Filter<StoredRecord> {
  const filter: Filter<StoredRecord> = {};
  const either: Record<string, unknown>[] = [];
  if (filters.analysis_name !== undefined)
    either.push(
      eitherRecord('analysis_name', filters.analysis_name, `${WRAPPER_CODE}.parameters.analysis_name`),
    );
  if (filters.analysis_version !== undefined)
    either.push(eitherRecord('analysis_version', filters.analysis_version, `${WRAPPER_CODE}.version`));
  if (either.length === 1) Object.assign(filter, either[0]);
  else if (either.length > 1) filter.$and = either as Filter<StoredRecord>[];
  // Equality on an array field matches any of its elements: grouped tasks list several assets.
  if (filters.asset_name !== undefined) filter['input.asset_name'] = filters.asset_name;
  if (filters.dispatch_id !== undefined) filter.dispatch_id = filters.dispatch_id;
  return filter;
}

/**
 * One page in `_id` order, starting after the cursor. Keyset paging rather than `skip`: FerretDB
 * reads every skipped document, so `skip` gets slower with every page.
 */
export async function fetchPage(
  records: Collection<StoredRecord>,
  filter: Filter<StoredRecord>,
  limit: number,
  after?: string,
): Promise<RecordPage> {
  const query: Filter<StoredRecord> =
    after === undefined ? filter : { $and: [filter, { _id: { $gt: after } }] };
  // One more than asked tells whether there is a next page without a count over the collection.
  const found = await records
    .find(query)
    .sort({ _id: 1 })
    .limit(limit + 1)
    .toArray();
  const page = found.slice(0, limit);
  return { records: page, next: found.length > limit ? page[page.length - 1]?._id : undefined };
}

/**
 * The cursor that starts page `page` (1-based), found by streaming ids only; undefined for page 1.
 * Returns null when the page lies past the end.
 */
export async function cursorOfPage(
  records: Collection<StoredRecord>,
  filter: Filter<StoredRecord>,
  limit: number,
  page: number,
): Promise<string | undefined | null> {
  if (page === 1) return undefined;
  const before = (page - 1) * limit;
  let last: string | undefined;
  let seen = 0;
  const ids = records.find(filter, {
    projection: { _id: 1 },
    sort: { _id: 1 },
    limit: before,
    batchSize: 1000,
  });
  for await (const doc of ids) {
    last = doc._id;
    seen++;
  }
  return seen < before ? null : last;
}

/** A record by its full hash or by a prefix that names exactly one record. */
export async function findByHash(
  records: Collection<StoredRecord>,
  hash: string,
): Promise<StoredRecord | 'none' | 'ambiguous'> {
  const exact = await records.findOne({ _id: hash });
  if (exact) return exact;
  // Hashes are lower-case hex, so every id starting with the prefix sorts below prefix + 'g'.
  const matches = await records
    .find({ _id: { $gte: hash, $lt: `${hash}g` } })
    .sort({ _id: 1 })
    .limit(2)
    .toArray();
  if (matches.length === 0) return 'none';
  return matches.length > 1 ? 'ambiguous' : matches[0]!;
}

/** Name and version as `results` shows them: the project's fields, or a wrapper record's code. */
export function listedAnalysis(record: StoredRecord): { name: string; version: string; wrapper: boolean } {
  if (typeof record.analysis_name === 'string')
    return { name: record.analysis_name, version: record.analysis_version, wrapper: false };
  const code = 'processing' in record ? record.processing.data_processes[0]?.code : undefined;
  const name = code?.parameters?.analysis_name;
  return {
    name: typeof name === 'string' ? name : (code?.name ?? ''),
    version: code?.version ?? '',
    wrapper: true,
  };
}
