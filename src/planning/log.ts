/**
 * Where planning reports progress: a logger with `info`/`warn` (pino, Temporal's activity `log`)
 * or a single function (the CLI's quiet mode, a test's collector). Both are accepted so callers
 * need no adapter.
 */
export type PlanLog =
  | { info(message: string): void; warn(message: string): void }
  | ((message: string, fields?: Record<string, unknown>) => void);

/** Receives one warning (an id that matched nothing, an asset skipped, ...). */
export type Warn = (message: string) => void;

export function levels(log: PlanLog): { info: Warn; warn: Warn } {
  if (typeof log === 'function') {
    return { info: (message) => log(message), warn: (message) => log(message, { level: 'warn' }) };
  }
  return { info: (message) => log.info(message), warn: (message) => log.warn(message) };
}
