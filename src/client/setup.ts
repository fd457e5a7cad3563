import { setTimeout as delay } from 'node:timers/promises';
import { Connection } from '@temporalio/client';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { msToTs } from '@temporalio/common/lib/time';
import { EXIT } from '../dispatch-outcome';
import { grpcCode, temporalSettings } from '../temporal';
import { PROJECT_SEARCH_ATTRIBUTES } from '../workflows/search-attributes';
import { ExitError, temporalUnreachable } from './common';

export interface SetupFlags {
  retention_days?: number;
}

/** Retention of closed workflows in a namespace `setup` creates. */
export const DEFAULT_RETENTION_DAYS = 30;

const GRPC = { notFound: 5, alreadyExists: 6, permissionDenied: 7 } as const;

/** How long a new namespace may take to reach every frontend's cache. */
const NAMESPACE_READY_MS = 60_000;

/** Temporal Cloud: its own hosts, or an API key (which self-hosted servers rarely use). */
export function isTemporalCloud(address: string | undefined, apiKey: unknown): boolean {
  const host = (address ?? '').replace(/:\d+$/, '').toLowerCase();
  return host.endsWith('.tmprl.cloud') || host.endsWith('.api.temporal.io') || Boolean(apiKey);
}

/** Each project search attribute as `Name=Type`, the form tcld and the Temporal CLI take. */
function wanted(): Array<{ name: string; type: string; code: number }> {
  return PROJECT_SEARCH_ATTRIBUTES.map((key) => ({
    name: key.name,
    type: key.type.charAt(0) + key.type.slice(1).toLowerCase(),
    code: encodeSearchAttributeIndexedValueType(key.type)!,
  }));
}

/** The steps on Temporal Cloud, where namespaces and search attributes are the account's to change. */
export function cloudSteps(namespace: string, missing: string[], namespaceMissing: boolean): string {
  const attributes = wanted().filter((a) => missing.includes(a.name));
  const lines = [
    'This is Temporal Cloud: namespaces and search attributes are changed through the Cloud account, not by this command.',
  ];
  if (namespaceMissing)
    lines.push(
      '',
      `Namespace "${namespace}" does not exist (or this API key may not see it). Create it in the web console`,
      '(https://cloud.temporal.io, Namespaces, Create Namespace) or with `tcld namespace create`, then run `analysis setup` again.',
    );
  if (attributes.length > 0)
    lines.push(
      '',
      'Register the search attributes with tcld (https://docs.temporal.io/cloud/tcld), logged in with `tcld login`:',
      '',
      `  tcld namespace search-attributes add --namespace ${namespace} \\`,
      ...attributes.map(
        (a, i) => `    --search-attribute "${a.name}=${a.type}"${i < attributes.length - 1 ? ' \\' : ''}`,
      ),
      '',
      `or in the web console: Namespaces, ${namespace}, Edit, Custom Search Attributes, and add`,
      ...attributes.map((a) => `  ${a.name} of type ${a.type}`),
      '',
      'then run `analysis setup` again to check.',
    );
  return lines.join('\n');
}

/**
 * `setup`: makes the namespace ready for the project, idempotently. On a self-hosted server it
 * creates the namespace when missing and registers the search attributes through the operator
 * service; on Temporal Cloud it checks what it can and prints the steps for the rest.
 */
export async function runSetup(flags: SetupFlags): Promise<number> {
  const { connectionOptions, namespace } = temporalSettings();
  const cloud = isTemporalCloud(connectionOptions.address, connectionOptions.apiKey);
  let connection: Connection;
  try {
    connection = await Connection.connect(connectionOptions);
  } catch (err) {
    throw temporalUnreachable(err as Error);
  }
  try {
    return await setUp(connection, namespace, cloud, flags.retention_days ?? DEFAULT_RETENTION_DAYS);
  } finally {
    await connection.close().catch(() => undefined);
  }
}

async function setUp(
  connection: Connection,
  namespace: string,
  cloud: boolean,
  retentionDays: number,
): Promise<number> {
  const where = `${connection.options.address} (namespace "${namespace}")`;
  const exists = await namespaceExists(connection, namespace);
  if (!exists) {
    if (cloud) {
      console.log(
        cloudSteps(
          namespace,
          wanted().map((a) => a.name),
          true,
        ),
      );
      return EXIT.failed;
    }
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs(`${retentionDays} days`),
      description: 'analysis dispatch',
    });
    console.log(`namespace ${namespace}: created, retention ${retentionDays} days`);
  } else console.log(`namespace ${namespace}: exists`);

  const listed = await listCustom(connection, namespace, exists ? 0 : NAMESPACE_READY_MS);
  if (listed === 'denied') {
    if (!cloud)
      throw new ExitError(
        `the Temporal server at ${where} refused to list search attributes: this needs operator rights`,
        EXIT.failed,
      );
    console.log(
      cloudSteps(
        namespace,
        wanted().map((a) => a.name),
        false,
      ),
    );
    console.log(
      '(The search attributes could not be listed with these credentials: check them in the console.)',
    );
    return EXIT.failed;
  }
  const wrongType = wanted().filter((a) => listed.has(a.name) && listed.get(a.name) !== a.code);
  if (wrongType.length > 0)
    throw new ExitError(
      `namespace ${namespace} has ${wrongType.map((a) => a.name).join(', ')} registered with another type than ${wrongType.map((a) => a.type).join(', ')}: a search attribute's type cannot change; use another namespace`,
      EXIT.failed,
    );
  const missing = wanted().filter((a) => !listed.has(a.name));
  for (const a of wanted())
    if (listed.has(a.name)) console.log(`search attribute ${a.name} (${a.type}): registered already`);
  if (missing.length === 0) return EXIT.ok;
  if (cloud) {
    console.log(
      cloudSteps(
        namespace,
        missing.map((a) => a.name),
        false,
      ),
    );
    return EXIT.failed;
  }
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((a) => [a.name, a.code])),
    });
  } catch (err) {
    // Another `setup` registering them at the same time is as good as this one.
    if (grpcCode(err) !== GRPC.alreadyExists) throw err;
  }
  const after = await listCustom(connection, namespace, 0);
  const still = missing.filter((a) => after === 'denied' || !after.has(a.name));
  if (still.length > 0)
    throw new ExitError(
      `the Temporal server at ${where} accepted the search attributes ${still.map((a) => a.name).join(', ')} but does not list them`,
      EXIT.failed,
    );
  for (const a of missing) console.log(`search attribute ${a.name} (${a.type}): registered`);
  return EXIT.ok;
}

async function namespaceExists(connection: Connection, namespace: string): Promise<boolean> {
  try {
    await connection.workflowService.describeNamespace({ namespace });
    return true;
  } catch (err) {
    if (grpcCode(err) === GRPC.notFound) return false;
    throw err;
  }
}

/**
 * The namespace's custom search attributes (name to type). A namespace just created may be
 * unknown to a frontend for a few seconds: then this waits up to `waitMs`.
 */
async function listCustom(
  connection: Connection,
  namespace: string,
  waitMs: number,
): Promise<Map<string, number> | 'denied'> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const listed = await connection.operatorService.listSearchAttributes({ namespace });
      return new Map(
        Object.entries(listed.customAttributes ?? {}).map(([name, type]) => [name, Number(type)]),
      );
    } catch (err) {
      const code = grpcCode(err);
      if (code === GRPC.permissionDenied) return 'denied';
      if (code !== GRPC.notFound || Date.now() >= deadline) throw err;
      await delay(500);
    }
  }
}
