import type * as ClientModule from '@temporalio/client';
import type { Client } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { Config } from './config';
import { DEFAULT_UI_URL } from './ui-url';

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
