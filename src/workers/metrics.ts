import type { MetricMeter } from '@temporalio/common';

/** What the run step tells operators about the analyses a worker runs, each by analysis name. */
export interface RunMetrics {
  started(analysis: string): void;
  finished(analysis: string, outcome: 'succeeded' | 'failed', seconds: number): void;
  uploaded(analysis: string, bytes: number): void;
  /** A run found every slot of its analysis's `max_concurrent` held and waits for one. */
  atCapacity(analysis: string): void;
  leaseTaken(analysis: string): void;
  leaseGiven(analysis: string): void;
}

export const RUN_SECONDS = 'analysis_task_run_seconds';

/**
 * Run times span seconds to hours; the exporter's default buckets stop at 10 (its own latencies),
 * so the run-time histogram gets its own.
 */
export const RUN_SECONDS_BUCKETS = [1, 5, 15, 30, 60, 300, 900, 1800, 3600, 7200, 14400];

/**
 * The project's metrics on the Temporal runtime's meter: one exporter serves them beside the
 * SDK's own on the worker's `--metrics_port`. The meter is a no-op when no port was given.
 */
export function createRunMetrics(meter: MetricMeter): RunMetrics {
  const started = meter.createCounter('analysis_tasks_started', 'tasks', 'Runs of an analysis started');
  const succeeded = meter.createCounter(
    'analysis_tasks_succeeded',
    'tasks',
    'Runs that returned their outputs',
  );
  const failed = meter.createCounter('analysis_tasks_failed', 'tasks', 'Runs that failed (each attempt)');
  const runSeconds = meter.createHistogram(RUN_SECONDS, 'float', 's', 'Wall time of one run');
  const uploadedBytes = meter.createCounter(
    'analysis_uploaded_bytes',
    'bytes',
    'Bytes of results uploaded by the run step',
  );
  const waits = meter.createCounter(
    'analysis_tasks_at_capacity',
    'tasks',
    'Runs sent back to wait because every slot of the analysis was held',
  );
  const leasesHeld = meter.createGauge(
    'analysis_leases_held',
    'int',
    'leases',
    'Run slots this worker holds',
  );
  const held = new Map<string, number>();
  const setHeld = (analysis: string, change: number) => {
    const count = (held.get(analysis) ?? 0) + change;
    held.set(analysis, count);
    leasesHeld.set(count, { analysis });
  };
  return {
    started: (analysis) => started.add(1, { analysis }),
    finished(analysis, outcome, seconds) {
      (outcome === 'succeeded' ? succeeded : failed).add(1, { analysis });
      runSeconds.record(seconds, { analysis, outcome });
    },
    uploaded: (analysis, bytes) => uploadedBytes.add(bytes, { analysis }),
    atCapacity: (analysis) => waits.add(1, { analysis }),
    leaseTaken: (analysis) => setHeld(analysis, 1),
    leaseGiven: (analysis) => setHeld(analysis, -1),
  };
}
