import { ConfigError } from './errors';

/** The Web UI of the local dev server, where TEMPORAL_UI_URL is unset. */
export const DEFAULT_UI_URL = 'http://localhost:8233';

export const UI_URL_PROBLEM = 'must be a URL such as https://cloud.temporal.io';

export function isUrl(value: string): boolean {
  return URL.canParse(value);
}

/**
 * TEMPORAL_UI_URL, checked as `loadConfig` checks it, without loading the configuration's schema
 * library: for `status`, which needs nothing else of the configuration.
 */
export function uiUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env.TEMPORAL_UI_URL?.trim();
  if (!value) return undefined;
  if (!isUrl(value)) throw new ConfigError(`Invalid environment: TEMPORAL_UI_URL: ${UI_URL_PROBLEM}`);
  return value;
}
