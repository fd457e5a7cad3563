import pino from 'pino';

/**
 * The one logger: JSON lines on stderr, for log collectors and `jq` alike. Keys that may hold
 * secrets are redacted wherever they appear.
 */
export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info') {
  return pino(
    {
      level,
      base: undefined,
      redact: {
        paths: ['*.password', '*.secretAccessKey', '*.AWS_SECRET_ACCESS_KEY', '*.MONGODB_URI', '*.apiKey'],
        censor: '***',
      },
    },
    pino.destination(2),
  );
}

export type Logger = ReturnType<typeof createLogger>;
