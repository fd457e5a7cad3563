import { DefaultLogger, Runtime, type LogEntry } from '@temporalio/worker';
import { createLogger } from '../logger';
import { RUN_SECONDS, RUN_SECONDS_BUCKETS } from './metrics';

const LEVELS = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;

/** Keeps log lines short: Temporal's task tokens and run ids say nothing to a reader. */
const DROPPED = new Set(['taskToken', 'sdkComponent', 'isLocal', 'namespace', 'workflowRunId', 'runId']);

/**
 * Routes the Temporal runtime's logs (workflow and activity `log` calls included) to the one
 * pino logger, so every line about a task carries its dispatch id and hash as fields.
 */
export function installRuntimeLogging(level: string, metricsPort?: number): void {
  if (Runtime._instance) {
    // Metrics are an option of the runtime, which a process installs once.
    if (metricsPort !== undefined)
      throw new Error('--metrics_port: the Temporal runtime of this process is already installed');
    return;
  }
  const log = createLogger(level);
  const temporalLevel = (
    level === 'silent' || level === 'fatal' ? 'ERROR' : level.toUpperCase()
  ) as keyof typeof LEVELS;
  Runtime.install({
    logger: new DefaultLogger(temporalLevel in LEVELS ? temporalLevel : 'INFO', (entry: LogEntry) => {
      // Each worker's own queue serves activities only, by design.
      if (entry.message.startsWith('No workflows registered')) return;
      const fields = Object.fromEntries(
        Object.entries(entry.meta ?? {}).filter(([key]) => !DROPPED.has(key)),
      );
      log[LEVELS[entry.level]](fields, entry.message);
    }),
    ...(metricsPort !== undefined ? { telemetryOptions: { metrics: prometheusOn(metricsPort) } } : {}),
  });
}

/**
 * The SDK's Prometheus exporter on every interface of the port, serving its own metrics and the
 * project's (workers/metrics.ts, made on the runtime's meter) in one scrape.
 */
function prometheusOn(port: number) {
  return {
    prometheus: {
      bindAddress: `0.0.0.0:${port}`,
      countersTotalSuffix: true,
      useSecondsForDurations: true,
      histogramBucketOverrides: { [RUN_SECONDS]: RUN_SECONDS_BUCKETS },
    },
  };
}
