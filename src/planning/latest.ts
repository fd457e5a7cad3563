import type { Document, Filter } from 'mongodb';
import { canonicalJson } from '../identity';
import { plainValue, valueAt } from './document';

/** `--filter_latest FIELD --filter_by F1[,F2]`. */
export interface LatestRequest {
  field: string;
  by: string[];
}

/**
 * Newest first, and among equals the highest `_id`, so that planning twice keeps the same asset.
 * Missing values sort last, as they do in MongoDB's descending order.
 */
export const newestFirst = (latest: LatestRequest): Record<string, -1> => ({ [latest.field]: -1, _id: -1 });

/**
 * The newest asset per group in one aggregation (MongoDB, DocumentDB): sorted newest first, the
 * first document of each group kept. The group key is a document of `$ifNull`s so that a missing
 * value and null are one group, as the upstream dispatcher's list key makes them.
 */
export function latestPipeline(
  filter: Filter<Document>,
  projection: Record<string, 1>,
  latest: LatestRequest,
): Document[] {
  const key = Object.fromEntries(
    latest.by.map((field, index) => [`k${index}`, { $ifNull: [`$${field}`, null] }]),
  );
  return [
    { $match: filter },
    { $project: projection },
    { $sort: newestFirst(latest) },
    { $group: { _id: key, asset: { $first: '$$ROOT' } } },
    { $replaceRoot: { newRoot: '$asset' } },
  ];
}

/**
 * The same choice over documents already sorted by `newestFirst`, for servers without `$first`
 * (FerretDB 1.x): the first document of each group wins, so only one key per group is held.
 */
export async function* firstOfEachGroup(
  sorted: AsyncIterable<Document>,
  latest: LatestRequest,
): AsyncGenerator<Document> {
  const seen = new Set<string>();
  for await (const doc of sorted) {
    const key = canonicalJson(latest.by.map((field) => plainValue(valueAt(doc, field))));
    if (seen.has(key)) continue;
    seen.add(key);
    yield doc;
  }
}

/** The server does not implement a stage or operator the aggregation uses. */
export function isNotImplemented(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  // 238 NotImplemented (FerretDB); 168 InvalidPipelineOperator, 40324 unknown stage, 15952 unknown
  // group operator (MongoDB and servers that speak its protocol).
  return code === 238 || code === 168 || code === 40324 || code === 15952;
}
