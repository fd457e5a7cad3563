import pino from 'pino';
import { redactText, SECRET_VARIABLES, secretsOf } from './redact';

/** Deep enough for any field this codebase logs; deeper values are left as pino writes them. */
const SCRUB_DEPTH = 6;

function scrubbed(value: unknown, secrets: readonly string[], depth = 0): unknown {
  if (typeof value === 'string') return redactText(value, secrets);
  if (depth >= SCRUB_DEPTH || value === null || typeof value !== 'object') return value;
  // A copy of the same class, for pino's serializer, with the message and stack (not enumerable) scrubbed.
  if (value instanceof Error) {
    const copy = Object.create(Object.getPrototypeOf(value) as object) as Error;
    for (const [key, inner] of Object.entries(value))
      Object.assign(copy, { [key]: scrubbed(inner, secrets, depth + 1) });
    copy.message = redactText(value.message, secrets);
    copy.stack = value.stack === undefined ? undefined : redactText(value.stack, secrets);
    if (value.cause !== undefined) copy.cause = scrubbed(value.cause, secrets, depth + 1);
    return copy;
  }
  if (Array.isArray(value)) return value.map((item) => scrubbed(item, secrets, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [key, scrubbed(inner, secrets, depth + 1)]),
  );
}

/**
 * The one logger: JSON lines on stderr, for log collectors and `jq` alike. Keys that may hold
 * secrets are censored wherever they appear, and every message and field is searched for
 * connection strings (shown as their hosts) and for the process's secret values.
 */
export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info') {
  const secrets = secretsOf();
  return pino(
    {
      level,
      base: undefined,
      redact: {
        paths: [
          '*.password',
          '*.secretAccessKey',
          '*.sessionToken',
          '*.apiKey',
          ...SECRET_VARIABLES.flatMap((name) => [name, `*.${name}`]),
        ],
        censor: '***',
      },
      formatters: { log: (fields) => scrubbed(fields, secrets) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          // The message and its format arguments; the fields go through `formatters.log`. An error
          // alone is its fields and its message, as pino would log it, but with the message scrubbed.
          const [first, ...rest] = args as unknown[];
          const expanded =
            first instanceof Error ? [{ err: first }, ...(rest.length > 0 ? rest : [first.message])] : args;
          const scrubbedArgs = expanded.map((arg) =>
            typeof arg === 'string' ? redactText(arg, secrets) : arg,
          );
          method.apply(this, scrubbedArgs as Parameters<typeof method>);
        },
      },
    },
    pino.destination(2),
  );
}

export type Logger = ReturnType<typeof createLogger>;
