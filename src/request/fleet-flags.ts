import { InputError } from '../errors';
import { text, type DispatchFlags } from './flag-values';

/** Temporal's default priority level, the middle of its five. */
export const DEFAULT_PRIORITY = 3;

/** The server's limit on a fairness key. */
const FAIRNESS_KEY_BYTES = 64;

/** `--priority`: 1 (runs first) to 5; `fallback` when not given. */
export function priorityOf(options: DispatchFlags, fallback = DEFAULT_PRIORITY): number {
  const value = text(options, 'priority');
  if (value === undefined) return fallback;
  if (!/^[1-5]$/.test(value))
    throw new InputError(`--priority must be a whole number from 1 (runs first) to 5, got "${value}"`);
  return Number(value);
}

/** `--fairness_key`, or `fallback` (the experimenter) cut to the server's 64 bytes. */
export function fairnessKeyOf(options: DispatchFlags, fallback: string): string {
  const value = text(options, 'fairness_key');
  if (value === undefined) return cutToBytes(fallback, FAIRNESS_KEY_BYTES);
  if (Buffer.byteLength(value) > FAIRNESS_KEY_BYTES)
    throw new InputError(
      `--fairness_key must be at most ${FAIRNESS_KEY_BYTES} bytes, got ${Buffer.byteLength(value)}`,
    );
  return value;
}

function cutToBytes(value: string, bytes: number): string {
  let cut = value;
  while (Buffer.byteLength(cut) > bytes) cut = cut.slice(0, -1);
  return cut;
}

/**
 * `--notify URL`, else ANALYSIS_NOTIFY_URL, else none. A webhook's address usually holds its
 * token, so a bad one is named by where it came from and never repeated.
 */
export function notifyUrlOf(
  options: DispatchFlags,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const flag = text(options, 'notify');
  const fromEnv = env.ANALYSIS_NOTIFY_URL?.trim() || undefined;
  const value = flag ?? fromEnv;
  if (value === undefined) return undefined;
  const source = flag !== undefined ? '--notify' : 'ANALYSIS_NOTIFY_URL';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InputError(`${source} must be an http:// or https:// URL (the value given is not a URL)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InputError(
      `${source} must be an http:// or https:// URL, got one of scheme "${url.protocol.replace(/:$/, '')}"`,
    );
  if (!url.hostname) throw new InputError(`${source} must name a host`);
  return url.toString();
}
