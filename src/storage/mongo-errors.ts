import { MongoServerError } from 'mongodb';

/** The server's answer to a second document with an `_id` already taken. */
export const DUPLICATE_KEY = 11000;

/** Server answers about the document itself (bad value, type, size): retrying cannot help. */
const REJECTED_DOCUMENT = new Set([2, 14, 10334, 17280]);

export function isDuplicateKey(err: unknown): boolean {
  return err instanceof MongoServerError && err.code === DUPLICATE_KEY;
}

export function isRejectedDocument(err: unknown): err is MongoServerError {
  return err instanceof MongoServerError && REJECTED_DOCUMENT.has(Number(err.code));
}
