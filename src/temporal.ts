import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { Config } from './config';

/** Connection settings from TEMPORAL_* variables and temporal.toml profiles. */
export function temporalSettings() {
  const { connectionOptions, namespace } = loadClientConnectConfig();
  return { connectionOptions, namespace: namespace ?? 'default' };
}

export async function connectClient(): Promise<Client> {
  const { connectionOptions, namespace } = temporalSettings();
  const connection = await Connection.connect(connectionOptions);
  return new Client({ connection, namespace });
}

/** Web UI page of a workflow or a schedule; TEMPORAL_UI_URL overrides the local dev server's default. */
export function webUiUrl(config: Config, page: 'workflows' | 'schedules', id: string): string {
  const { namespace } = temporalSettings();
  const base = (config.TEMPORAL_UI_URL ?? 'http://localhost:8233').replace(/\/+$/, '');
  return `${base}/namespaces/${encodeURIComponent(namespace)}/${page}/${encodeURIComponent(id)}`;
}
