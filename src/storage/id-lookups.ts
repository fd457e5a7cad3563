import type { Collection, Db, Document, WithId } from 'mongodb';
import { mapWithConcurrency } from '../concurrency';

/** Reads the documents of some `_id`s, in no particular order; ids with no document are left out. */
export type FindByIds = <T extends { _id: string }>(
  collection: Collection<T>,
  ids: readonly string[],
  projection: Document,
) => Promise<Array<WithId<T>>>;

/** The collection as the lookups see it: documents keyed by a string `_id`. */
type Keyed = Collection<{ _id: string }>;

/** How many single-id lookups are in flight at once where one `$in` would scan. */
const LOOKUPS_IN_FLIGHT = 8;

/** One `$in` read: what MongoDB and DocumentDB answer from their `_id` index. */
export const findByIdsIn: FindByIds = async (collection, ids, projection) => {
  if (ids.length === 0) return [];
  const found = await (collection as unknown as Keyed)
    .find({ _id: { $in: [...ids] } }, { projection })
    .toArray();
  return found as never;
};

/**
 * One read per id, a few at a time: FerretDB 1.x answers only a filter of exactly one `_id` from
 * its key, and reads every document of the collection for anything else (`$in` included), so a
 * job's lookup of its records would cost a pass over all the records.
 */
export const findByIdsOneByOne: FindByIds = async (collection, ids, projection) => {
  const keyed = collection as unknown as Keyed;
  const found = await mapWithConcurrency(new Set(ids), LOOKUPS_IN_FLIGHT, (id) =>
    keyed.findOne({ _id: id }, { projection }),
  );
  return found.filter((doc) => doc !== null) as never;
};

/**
 * True for FerretDB before 2.0, told by the `ferretdbVersion` its `buildInfo` adds (MongoDB and
 * DocumentDB have none). A FerretDB built without its version stamped says "unknown": taken as 1.x.
 */
export function answersOnlySingleIdFromKey(buildInfo: Document): boolean {
  const version = buildInfo.ferretdbVersion;
  if (typeof version !== 'string') return false;
  const major = /^v?(\d+)\./.exec(version);
  return !major || Number(major[1]) < 2;
}

/**
 * The lookup by ids that suits the server behind `db`, chosen on first use by asking the server
 * what it is. A failed question is asked again on the next use.
 */
export function idLookups(db: Db): FindByIds {
  let chosen: Promise<FindByIds> | undefined;
  const choose = () =>
    db
      .command({ buildInfo: 1 })
      .then((info) => (answersOnlySingleIdFromKey(info) ? findByIdsOneByOne : findByIdsIn));
  return async (collection, ids, projection) => {
    chosen ??= choose().catch((err: unknown) => {
      chosen = undefined;
      throw err;
    });
    return (await chosen)(collection, ids, projection);
  };
}
