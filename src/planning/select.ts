import { ObjectId, type AbstractCursor, type Collection, type Document, type Filter } from 'mongodb';
import { InputError } from '../errors';
import { parseAssetLocation, s3Url } from '../storage/s3-url';
import type { DispatchRequest } from '../types';
import { idString, isObjectIdHex, valueAt } from './document';
import {
  firstOfEachGroup,
  isNotImplemented,
  latestPipeline,
  newestFirst,
  type LatestRequest,
} from './latest';
import type { Warn } from './log';

/** An asset that can be planned: it has an `s3://bucket/prefix` location. */
export interface SelectedAsset {
  id: string;
  name: string;
  /** Normalized, without a trailing slash. */
  location: string;
  /** The projected document, for `--group_by` values; planning drops it when there are none. */
  doc?: Document;
}

export interface SelectionStats {
  /** Documents the query or the CSV matched (with --filter_latest, at least those it kept). */
  matched: number;
  withoutLocation: number;
  /** Left out before --filter_latest for want of a group value (--drop_null_groups 1). */
  withoutGroupValue: number;
}

/** Assets streamed from the database; `stats` is complete once iteration has finished. */
export interface Selection extends AsyncIterable<SelectedAsset> {
  readonly stats: SelectionStats;
}

type SelectRequest = Pick<
  DispatchRequest,
  | 'query'
  | 'asset_ids'
  | 'asset_id_field'
  | 'group_by'
  | 'filter_latest'
  | 'filter_by'
  | 'unwind_list_fields'
  | 'drop_null_groups'
>;

/**
 * CSV ids matched by the server with `$in` up to this many; more are matched here, over one
 * projected pass of the collection. A long `$in` costs FerretDB time in proportion to ids times
 * documents (100,000 ids took 21 s against 2,000 assets, the pass 0.2 s), and any server refuses a
 * command past 16 MiB, which a few hundred thousand ids reach.
 */
export const IDS_MATCHED_BY_SERVER = 1_000;

/**
 * Streams the selected assets with a cursor (never the whole collection in one reply), reads only
 * the fields planning uses, and reports ids that matched nothing and assets it had to skip.
 */
export function selectAssets(assets: Collection, request: SelectRequest, warn: Warn): Selection {
  const stats: SelectionStats = { matched: 0, withoutLocation: 0, withoutGroupValue: 0 };
  return { stats, [Symbol.asyncIterator]: () => stream(assets, request, warn, stats) };
}

async function* stream(assets: Collection, request: SelectRequest, warn: Warn, stats: SelectionStats) {
  const where = `${assets.dbName}.${assets.collectionName}`;
  const ids = request.asset_ids ? idSelection(request.asset_ids, request.asset_id_field) : undefined;
  const filter = ids?.filter ?? request.query ?? {};
  const fields = projection(request);
  const matching = (docs: AsyncIterable<Document>) => counted(docs, request.asset_id_field, ids, stats);
  const docs = request.filter_latest
    ? newestPerGroup(assets, request, { filter, fields, matching, stats, warn })
    : matching(iterate(assets.find(filter, { projection: fields, batchSize: 1000 })));
  let kept = 0;
  for await (const doc of docs) {
    kept += 1;
    const id = idString(doc._id);
    const name = typeof doc.name === 'string' ? doc.name : '';
    const location = parseAssetLocation(doc.location);
    if (!location) {
      stats.withoutLocation += 1;
      warn(
        `skipped asset ${name || id} (${id}): location ${describeLocation(doc.location)} is not s3://bucket/prefix`,
      );
      continue;
    }
    yield { id, name, location: s3Url(location.bucket, location.prefix), doc };
  }
  if (ids) reportUnmatched(request.asset_ids!, ids.seen, request.asset_id_field, where, warn);
  else if (stats.matched === 0 && stats.withoutGroupValue === 0)
    throw new InputError(`--query matched no assets in ${where}`);
  if (kept === 0 && stats.withoutGroupValue > 0) {
    throw new InputError(
      `none of the ${stats.withoutGroupValue} selected assets has a value for ${groupFields(request).join(' or ')} (--drop_null_groups 0 groups them under null)`,
    );
  }
  if (kept > 0 && kept === stats.withoutLocation) {
    throw new InputError(`none of the ${kept} selected assets has a usable location (s3://bucket/prefix)`);
  }
}

interface IdSelection {
  filter: Filter<Document>;
  /** Set when the ids are matched here rather than by the server. */
  wanted?: Set<string>;
  seen: Set<string>;
}

function idSelection(ids: string[], field: string): IdSelection {
  if (ids.length > IDS_MATCHED_BY_SERVER) return { filter: {}, wanted: new Set(ids), seen: new Set() };
  // Asset ids are often ObjectIds, but a CSV only holds their hex form: match both.
  const objectIds = field === '_id' ? ids.filter(isObjectIdHex).map((id) => new ObjectId(id)) : [];
  return { filter: { [field]: { $in: [...ids, ...objectIds] } }, seen: new Set() };
}

/** Counts what the selection matched, noting the CSV ids seen and leaving out ids not asked for. */
async function* counted(
  docs: AsyncIterable<Document>,
  field: string,
  ids: IdSelection | undefined,
  stats: SelectionStats,
): AsyncGenerator<Document> {
  for await (const doc of docs) {
    if (ids) {
      // As `$in` does, a list field matches through any of its values.
      const value = valueAt(doc, field);
      const found = (Array.isArray(value) ? value : [value]).map(idString);
      if (ids.wanted && !found.some((id) => ids.wanted!.has(id))) continue;
      for (const id of found) ids.seen.add(id);
    }
    stats.matched += 1;
    yield doc;
  }
}

interface LatestContext {
  filter: Filter<Document>;
  fields: Record<string, 1>;
  matching: (docs: AsyncIterable<Document>) => AsyncIterable<Document>;
  stats: SelectionStats;
  warn: Warn;
}

/**
 * `--filter_latest`: one aggregation where the server has `$first` (MongoDB, DocumentDB); else
 * (FerretDB 1.x, and CSV selections, whose ids may be matched here) a stream sorted newest first
 * by the server, of which the first asset of each group is kept. Assets missing a group value are
 * left out before the newest is chosen (`--drop_null_groups 1`), as the upstream dispatcher does.
 */
async function* newestPerGroup(
  assets: Collection,
  request: SelectRequest,
  context: LatestContext,
): AsyncGenerator<Document> {
  const latest: LatestRequest = { field: request.filter_latest!, by: request.filter_by ?? [] };
  const drop = request.drop_null_groups === true;
  const fields = groupFields(request);
  if (!request.asset_ids) {
    const filter = drop
      ? { $and: [context.filter, ...fields.map((field) => ({ [field]: { $ne: null } }))] }
      : context.filter;
    const cursor = assets.aggregate(latestPipeline(filter, context.fields, latest), { batchSize: 1000 });
    let first: Document | null | undefined;
    try {
      first = await cursor.next();
    } catch (err) {
      await cursor.close();
      if (!isNotImplemented(err)) throw err;
    }
    if (first !== undefined) {
      if (drop) {
        const lacking = { $and: [context.filter, { $or: fields.map((field) => ({ [field]: null })) }] };
        reportWithoutValue(await assets.countDocuments(lacking), fields, context);
      }
      if (first === null) return await cursor.close();
      yield* context.matching(startingWith(first, iterate(cursor)));
      return;
    }
  }
  const sorted = iterate(
    assets.find(context.filter, {
      projection: context.fields,
      sort: newestFirst(latest),
      batchSize: 1000,
      allowDiskUse: true,
    }),
  );
  let lacking = 0;
  async function* withValues(docs: AsyncIterable<Document>) {
    for await (const doc of docs) {
      if (drop && fields.some((field) => valueAt(doc, field) === undefined || valueAt(doc, field) === null)) {
        lacking++;
        continue;
      }
      yield doc;
    }
  }
  yield* firstOfEachGroup(withValues(context.matching(sorted)), latest);
  reportWithoutValue(lacking, fields, context);
}

function reportWithoutValue(count: number, fields: string[], context: LatestContext): void {
  if (count === 0) return;
  context.stats.withoutGroupValue += count;
  context.warn(
    `${count} selected assets have no value for ${fields.join(' or ')}: left out before --filter_latest (--drop_null_groups 0 groups them under null)`,
  );
}

/** The fields whose values make the groups: those of --filter_by, then those of --group_by. */
function groupFields(request: SelectRequest): string[] {
  return [...new Set([...(request.filter_by ?? []), ...request.group_by])];
}

async function* startingWith(first: Document, rest: AsyncIterable<Document>): AsyncGenerator<Document> {
  yield first;
  yield* rest;
}

async function* iterate(cursor: AbstractCursor<Document>): AsyncGenerator<Document> {
  try {
    for await (const doc of cursor) yield doc;
  } finally {
    await cursor.close();
  }
}

/** Only what planning reads; a path under another one listed is dropped (MongoDB calls that a collision). */
function projection(request: SelectRequest): Record<string, 1> {
  const paths = [
    ...new Set([
      '_id',
      'name',
      'location',
      request.asset_id_field,
      ...request.group_by,
      ...(request.unwind_list_fields ?? []),
      ...(request.filter_latest ? [request.filter_latest] : []),
      ...(request.filter_by ?? []),
    ]),
  ].sort();
  const kept = paths.filter((path) => !paths.some((other) => path.startsWith(`${other}.`)));
  return Object.fromEntries(kept.map((path) => [path, 1]));
}

function reportUnmatched(ids: string[], seen: Set<string>, field: string, where: string, warn: Warn): void {
  const missing = ids.filter((id) => !seen.has(id));
  if (missing.length === 0) return;
  const shown =
    missing.slice(0, 10).join(', ') + (missing.length > 10 ? `, ... (${missing.length - 10} more)` : '');
  if (missing.length === ids.length) {
    throw new InputError(
      `none of the ${ids.length} ids in --asset_csv matched an asset by ${field} in ${where}: ${shown}`,
    );
  }
  warn(`${missing.length} of ${ids.length} ids in --asset_csv matched no asset by ${field}: ${shown}`);
}

function describeLocation(location: unknown): string {
  if (location === undefined || location === null || location === '') return '(missing)';
  const text = typeof location === 'string' ? location : JSON.stringify(location);
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}...` : text);
}
