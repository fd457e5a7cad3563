import { ObjectId, type Collection, type Document, type Filter } from 'mongodb';
import { InputError } from '../errors';
import { parseAssetLocation, s3Url } from '../storage/s3-url';
import type { DispatchRequest } from '../types';
import { idString, isObjectIdHex, valueAt } from './document';
import type { Warn } from './log';

/** An asset that can be planned: it has an `s3://bucket/prefix` location. */
export interface SelectedAsset {
  id: string;
  name: string;
  /** Normalized, without a trailing slash. */
  location: string;
  /** The projected document, for `--group_by` values. */
  doc: Document;
}

export interface SelectionStats {
  matched: number;
  withoutLocation: number;
}

/** Assets streamed from the database; `stats` is complete once iteration has finished. */
export interface Selection extends AsyncIterable<SelectedAsset> {
  readonly stats: SelectionStats;
}

type SelectRequest = Pick<DispatchRequest, 'query' | 'asset_ids' | 'asset_id_field' | 'group_by'>;

/**
 * Streams the selected assets with a cursor (never the whole collection in one reply), reads only
 * the fields planning uses, and reports ids that matched nothing and assets it had to skip.
 */
export function selectAssets(assets: Collection, request: SelectRequest, warn: Warn): Selection {
  const stats: SelectionStats = { matched: 0, withoutLocation: 0 };
  return { stats, [Symbol.asyncIterator]: () => stream(assets, request, warn, stats) };
}

async function* stream(assets: Collection, request: SelectRequest, warn: Warn, stats: SelectionStats) {
  const { filter, ids } = selectionFilter(request);
  const seenIds = new Set<string>();
  const cursor = assets.find(filter, { projection: projection(request), batchSize: 1000 });
  try {
    for await (const doc of cursor) {
      stats.matched += 1;
      if (ids) seenIds.add(idString(valueAt(doc, request.asset_id_field)));
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
  } finally {
    await cursor.close();
  }
  const where = `${assets.dbName}.${assets.collectionName}`;
  if (ids) reportUnmatched(ids, seenIds, request.asset_id_field, where, warn);
  else if (stats.matched === 0) throw new InputError(`--query matched no assets in ${where}`);
  if (stats.matched > 0 && stats.matched === stats.withoutLocation) {
    throw new InputError(
      `none of the ${stats.matched} selected assets has a usable location (s3://bucket/prefix)`,
    );
  }
}

function selectionFilter(request: SelectRequest): { filter: Filter<Document>; ids?: string[] } {
  if (!request.asset_ids) return { filter: request.query ?? {} };
  const ids = request.asset_ids;
  // Asset ids are often ObjectIds, but a CSV only holds their hex form: match both.
  const objectIds =
    request.asset_id_field === '_id' ? ids.filter(isObjectIdHex).map((id) => new ObjectId(id)) : [];
  return { filter: { [request.asset_id_field]: { $in: [...ids, ...objectIds] } }, ids };
}

/** Only what planning reads; a path under another one listed is dropped (MongoDB calls that a collision). */
function projection(request: SelectRequest): Record<string, 1> {
  const paths = [...new Set(['_id', 'name', 'location', request.asset_id_field, ...request.group_by])].sort();
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
