import type { Collection, Db } from 'mongodb';
import { InputError } from '../errors';
import type { DispatchRequest } from '../types';

export const REQUEST_COLLECTION = 'dispatch_requests';

/**
 * Characters per document: at most three UTF-8 bytes each, so a part stays under the 16 MiB
 * document limit of MongoDB, DocumentDB and FerretDB whatever the text holds.
 */
const PART_CHARS = 4 * 1024 * 1024;

/**
 * A request as JSON text, cut into parts: a CSV's ids and a query may be of any size, BSON would
 * refuse keys with dots or `$` in user parameters, and FerretDB nested arrays; the database never
 * needs to look inside.
 */
interface RequestPart {
  _id: string;
  request_id: string;
  part: number;
  parts: number;
  text: string;
  created_at: Date;
}

/**
 * Requests live here rather than in workflow input, so that nothing that grows with the selection
 * travels through Temporal: a dispatch (or a schedule's action) carries only the request's id. A
 * dispatch saves its request under its own id; a schedule under one id of its own, which every
 * dispatch it starts plans from, so a request id is not always a dispatch's.
 */
export interface RequestStore {
  save(requestId: string, request: DispatchRequest): Promise<void>;
  load(requestId: string): Promise<DispatchRequest>;
  delete(requestId: string): Promise<void>;
}

export function createRequestStore(db: Db): RequestStore {
  const parts: Collection<RequestPart> = db.collection<RequestPart>(REQUEST_COLLECTION);
  return {
    async save(requestId, request) {
      const pieces = cut(JSON.stringify(request));
      // Replace whatever an earlier attempt wrote, so a retried save is idempotent.
      await parts.deleteMany({ request_id: requestId });
      const createdAt = new Date();
      // One part per insert: a few parts of 12 MiB would pass the 48 MB a message may hold.
      for (const [part, text] of pieces.entries()) {
        await parts.insertOne({
          _id: `${requestId}:${part}`,
          request_id: requestId,
          part,
          parts: pieces.length,
          text,
          created_at: createdAt,
        });
      }
    },

    async load(requestId) {
      const found = await parts.find({ request_id: requestId }, { sort: { part: 1 } }).toArray();
      const expected = found[0]?.parts ?? 0;
      if (found.length === 0 || found.length !== expected || found.some((doc, i) => doc.part !== i)) {
        throw new InputError(
          `the request ${requestId} is not in ${db.databaseName}.${REQUEST_COLLECTION} (${found.length} of ${expected || '?'} parts found): was it deleted?`,
        );
      }
      return JSON.parse(found.map((doc) => doc.text).join('')) as DispatchRequest;
    },

    async delete(requestId) {
      await parts.deleteMany({ request_id: requestId });
    },
  };
}

/** Parts of at most PART_CHARS, never splitting a surrogate pair (each half alone is not text). */
export function cut(text: string, size = PART_CHARS): string[] {
  const pieces: string[] = [];
  for (let start = 0; start < text.length || pieces.length === 0;) {
    let end = Math.min(start + size, text.length);
    const code = text.charCodeAt(end - 1);
    if (end < text.length && code >= 0xd800 && code <= 0xdbff) end -= 1;
    pieces.push(text.slice(start, end));
    start = end;
  }
  return pieces;
}
