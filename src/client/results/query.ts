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

export function recordFilter(filters: RecordFilters): Filter<StoredRecord> {
  const filter: Filter<StoredRecord> = {};
  if (filters.analysis_name !== undefined) filter.analysis_name = filters.analysis_name;
  if (filters.analysis_version !== undefined) filter.analysis_version = filters.analysis_version;
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
