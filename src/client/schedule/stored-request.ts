import type { DispatchRequest } from '../../types';
import { decodeDispatchInput, type DispatchInputOfAnyVersion } from '../../workflows/legacy-input';
import { createRequestStore, type RequestStore } from '../../storage/request-store';
import type { Session } from '../common';

/** Where the requests of schedules wait: the database the session reads. */
export const requestStore = async (session: Session): Promise<RequestStore> =>
  createRequestStore((await session.mongo()).db(session.config.DOCDB_DATABASE));

/**
 * The request a schedule's runs dispatch: from the database for schedules created now, from the
 * action itself for those created by earlier versions.
 */
export async function scheduledRequest(
  args: readonly unknown[] | undefined,
  requests: RequestStore,
): Promise<DispatchRequest | undefined> {
  const raw = args?.[0] as DispatchInputOfAnyVersion | undefined;
  const input = raw && decodeDispatchInput(raw);
  if (input?.kind === 'new') return input.request;
  if (input?.kind === 'stored') return requests.load(input.request_id).catch(() => undefined);
  return undefined;
}

/** The id of the request a schedule keeps in the database, if it keeps one there. */
export function scheduledRequestId(args: readonly unknown[] | undefined): string | undefined {
  const input = args?.[0] as Partial<{ kind: string; request_id: string }> | undefined;
  return input?.kind === 'stored' ? input.request_id : undefined;
}
