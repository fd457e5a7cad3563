import type * as ClientModule from '@temporalio/client';
import type { Client } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { Config } from './config';
import { DEFAULT_UI_URL } from './ui-url';
import type * as SearchAttributes from './workflows/search-attributes';

/** Connection settings from TEMPORAL_* variables and temporal.toml profiles. */
export function temporalSettings() {
  const { connectionOptions, namespace } = loadClientConnectConfig();
  return { connectionOptions, namespace: namespace ?? 'default' };
}

export async function connectClient(): Promise<Client> {
  // Loaded here, not with the settings: building the SDK's API descriptors is a third of a second.
  const { Client, Connection } = require('@temporalio/client') as typeof ClientModule;
  const { connectionOptions, namespace } = temporalSettings();
  const connection = await Connection.connect(connectionOptions);
  return new Client({ connection, namespace });
}

/** Web UI page of a workflow or a schedule; TEMPORAL_UI_URL overrides the local dev server's default. */
export function webUiUrl(
  config: Pick<Config, 'TEMPORAL_UI_URL'>,
  page: 'workflows' | 'schedules',
  id: string,
): string {
  const { namespace } = temporalSettings();
  const base = (config.TEMPORAL_UI_URL ?? DEFAULT_UI_URL).replace(/\/+$/, '');
  return `${base}/namespaces/${encodeURIComponent(namespace)}/${page}/${encodeURIComponent(id)}`;
}

/** What registers the project's namespace and search attributes (src/client/setup.ts). */
export const SETUP_COMMAND = 'analysis setup';

/** A namespace without the search attributes (or without the namespace) the project needs. */
export class MissingSetupError extends Error {
  override name = 'MissingSetupError';
}

export function missingSearchAttributesError(namespace: string, missing: string[]): MissingSetupError {
  const what = missing.length === 1 ? 'search attribute' : 'search attributes';
  return new MissingSetupError(
    `namespace "${namespace}" lacks the ${what} ${missing.join(', ')} that this project needs: run \`${SETUP_COMMAND}\` once against it (README, "Operations")`,
  );
}

// How servers word a search attribute the namespace does not know: in a start (the frontend's
// check, SQL visibility's alias mapping) and in a visibility query.
const UNKNOWN_SEARCH_ATTRIBUTE = [
  /search attribute (\w+) is not defined/i,
  /no mapping defined for search attribute (\w+)/i,
  /invalid search attribute: (\w+)/i,
];

/** The search attribute a server refused as unknown, when that is why `err` happened. */
export function unknownSearchAttribute(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    for (const pattern of UNKNOWN_SEARCH_ATTRIBUTE) {
      const match = pattern.exec(e.message);
      if (match) return match[1];
    }
  }
  return undefined;
}

/** The gRPC status code of a failed call, on the error or its cause. */
export function grpcCode(err: unknown): number | undefined {
  for (let e: unknown = err, depth = 0; e && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

const GRPC_NOT_FOUND = 5;

/**
 * Refuses a namespace that lacks any of the project's search attributes (or does not exist),
 * naming the command that registers them. A server that will not list them (Temporal Cloud
 * without operator rights, say) is not refused here: a refusal there is reported when it happens.
 */
export async function checkSearchAttributes(
  connection: Pick<ClientModule.Connection, 'operatorService'>,
  namespace: string,
): Promise<void> {
  const { PROJECT_SEARCH_ATTRIBUTES } = require('./workflows/search-attributes') as typeof SearchAttributes;
  let have: Set<string>;
  try {
    const listed = await connection.operatorService.listSearchAttributes({ namespace });
    have = new Set(Object.keys(listed.customAttributes ?? {}));
  } catch (err) {
    if (grpcCode(err) === GRPC_NOT_FOUND)
      throw new MissingSetupError(
        `namespace "${namespace}" does not exist on this Temporal server: run \`${SETUP_COMMAND}\` once against it (README, "Operations")`,
      );
    return;
  }
  const missing = PROJECT_SEARCH_ATTRIBUTES.map((key) => key.name).filter((name) => !have.has(name));
  if (missing.length > 0) throw missingSearchAttributesError(namespace, missing);
}

/**
 * A start refused for an unknown search attribute is a namespace not set up: named as such, with
 * every attribute it lacks, and the command that registers them.
 */
export async function setupProblem(client: Client, err: unknown): Promise<unknown> {
  const name = unknownSearchAttribute(err);
  if (!name) return err;
  const namespace = client.options.namespace;
  try {
    await checkSearchAttributes(client.connection, namespace);
  } catch (missing) {
    return missing;
  }
  return missingSearchAttributesError(namespace, [name]);
}
