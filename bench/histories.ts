import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const EventType = temporal.api.enums.v1.EventType;

export interface HistoryStats {
  workflowId: string;
  runId?: string;
  events: number;
  /** The history's encoded size, and its largest event and single payload. */
  bytes: number;
  maxEventBytes: number;
  maxPayloadBytes: number;
  activities: number;
  workflowTasks: number;
  /** First to last event, seconds. */
  seconds: number;
}

/** Time a step of a job spends waiting for a worker, and running once picked up (seconds, mean). */
export interface StepTiming {
  count: number;
  waitSeconds: number;
  runSeconds: number;
}

export interface HistoryProfile {
  /** Per activity type; `workflow task` is the workflow's own turn between two steps. */
  steps: Record<string, StepTiming>;
  /** From the start event to the first workflow task picked up: the server's start latency. */
  firstTaskSeconds: number;
}

function ms(ts: temporal.api.history.v1.IHistoryEvent['eventTime']): number {
  return Number(ts?.seconds?.toString() ?? 0) * 1000 + (ts?.nanos ?? 0) / 1e6;
}

/** Largest Payload found anywhere in an event (inputs, results, signals, search attributes, memo). */
function maxPayload(value: unknown, depth = 0): number {
  if (value === null || typeof value !== 'object' || depth > 12) return 0;
  if (value instanceof Uint8Array) return 0;
  const record = value as Record<string, unknown>;
  if (record.data instanceof Uint8Array) {
    const metadata = (record.metadata ?? {}) as Record<string, Uint8Array>;
    return record.data.length + Object.values(metadata).reduce((sum, bytes) => sum + (bytes?.length ?? 0), 0);
  }
  let most = 0;
  for (const child of Array.isArray(value) ? value : Object.values(record))
    most = Math.max(most, maxPayload(child, depth + 1));
  return most;
}

export async function fetchEvents(
  client: Client,
  workflowId: string,
  runId?: string,
): Promise<HistoryEvent[]> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  return history.events ?? [];
}

export function historyStats(workflowId: string, events: HistoryEvent[], runId?: string): HistoryStats {
  let bytes = 0;
  let maxEventBytes = 0;
  let maxPayloadBytes = 0;
  let activities = 0;
  let workflowTasks = 0;
  for (const event of events) {
    const size = temporal.api.history.v1.HistoryEvent.encode(event).finish().length;
    bytes += size;
    maxEventBytes = Math.max(maxEventBytes, size);
    maxPayloadBytes = Math.max(maxPayloadBytes, maxPayload(event));
    if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) activities++;
    if (event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) workflowTasks++;
  }
  const first = events[0];
  const last = events[events.length - 1];
  return {
    workflowId,
    ...(runId ? { runId } : {}),
    events: events.length,
    bytes,
    maxEventBytes,
    maxPayloadBytes,
    activities,
    workflowTasks,
    seconds: first && last ? (ms(last.eventTime) - ms(first.eventTime)) / 1000 : 0,
  };
}

/**
 * Where a workflow's time went, read from its history: for each activity type, how long it waited
 * in its task queue (scheduled to started) and how long it ran; the same for workflow tasks.
 */
export function profileHistory(events: HistoryEvent[]): HistoryProfile {
  const scheduled = new Map<string, { name: string; at: number }>();
  const started = new Map<string, number>();
  const totals: Record<string, { count: number; wait: number; run: number }> = {};
  const add = (name: string, wait: number, run: number) => {
    const entry = (totals[name] ??= { count: 0, wait: 0, run: 0 });
    entry.count++;
    entry.wait += wait;
    entry.run += run;
  };
  let taskScheduled = 0;
  let taskStarted = 0;
  let firstTaskSeconds = -1;
  const begin = ms(events[0]?.eventTime);
  for (const event of events) {
    const at = ms(event.eventTime);
    const id = event.eventId?.toString() ?? '';
    switch (event.eventType) {
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        scheduled.set(id, {
          name: event.activityTaskScheduledEventAttributes?.activityType?.name ?? '?',
          at,
        });
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
        started.set(event.activityTaskStartedEventAttributes?.scheduledEventId?.toString() ?? '', at);
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: {
        const key = event.activityTaskCompletedEventAttributes?.scheduledEventId?.toString() ?? '';
        const step = scheduled.get(key);
        const pickedUp = started.get(key);
        if (step && pickedUp !== undefined) add(step.name, pickedUp - step.at, at - pickedUp);
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
        taskScheduled = at;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
        taskStarted = at;
        if (firstTaskSeconds < 0) firstTaskSeconds = (at - begin) / 1000;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        add('workflow task', taskStarted - taskScheduled, at - taskStarted);
        break;
      default:
        break;
    }
  }
  const steps: Record<string, StepTiming> = {};
  for (const [name, total] of Object.entries(totals)) {
    steps[name] = {
      count: total.count,
      waitSeconds: total.wait / total.count / 1000,
      runSeconds: total.run / total.count / 1000,
    };
  }
  return { steps, firstTaskSeconds: Math.max(0, firstTaskSeconds) };
}

/** Sums profiles of many workflows of the same kind into one mean per step. */
export function mergeProfiles(profiles: HistoryProfile[]): HistoryProfile {
  const steps: Record<string, StepTiming> = {};
  for (const profile of profiles) {
    for (const [name, step] of Object.entries(profile.steps)) {
      const merged = (steps[name] ??= { count: 0, waitSeconds: 0, runSeconds: 0 });
      const count = merged.count + step.count;
      merged.waitSeconds = (merged.waitSeconds * merged.count + step.waitSeconds * step.count) / count;
      merged.runSeconds = (merged.runSeconds * merged.count + step.runSeconds * step.count) / count;
      merged.count = count;
    }
  }
  const firstTaskSeconds =
    profiles.reduce((sum, profile) => sum + profile.firstTaskSeconds, 0) / Math.max(1, profiles.length);
  return { steps, firstTaskSeconds };
}

/** Every run of a workflow id (a dispatch continues as new), oldest first. */
export async function runsOf(client: Client, workflowId: string): Promise<string[]> {
  const runs: Array<{ runId: string; start: number }> = [];
  for await (const execution of client.workflow.list({ query: `WorkflowId="${workflowId}"` })) {
    runs.push({ runId: execution.runId, start: execution.startTime.getTime() });
  }
  return runs.sort((a, b) => a.start - b.start).map((run) => run.runId);
}

/** Evenly spaced indexes 0..total-1, at most `count` of them. */
export function sampleIndexes(total: number, count: number): number[] {
  if (total <= count) return Array.from({ length: total }, (_, i) => i);
  return Array.from({ length: count }, (_, i) => Math.round((i * (total - 1)) / (count - 1)));
}

/** How much of a sliding window went unused, and how much of that while the parent awaited child starts. */
export interface WindowLoss {
  /** Integral of (window - running) until the last child was started, in slot-seconds. */
  idleSlotSeconds: number;
  /** The part of it spent while at least one child's start was not yet acknowledged. */
  idleWhileStartPendingSeconds: number;
  /** Window x that time: the slot-seconds available. */
  slotSeconds: number;
  /** Freed slots refilled, and the seconds they waited in all: from a child's report to the next start. */
  refills: number;
  refillSeconds: number;
}

/** The JSON of an event's first payload, when it has one. */
function firstPayload(payloads: temporal.api.common.v1.IPayloads | null | undefined): unknown {
  const data = payloads?.payloads?.[0]?.data;
  if (!data) return undefined;
  try {
    return JSON.parse(Buffer.from(data).toString('utf8'));
  } catch {
    return undefined;
  }
}

/**
 * The job workflows a dispatch's event reports as finished, the way the dispatch counts them: a
 * jobFinished signal (every job of earlier versions, and a job that failed or was cancelled), the
 * close of a child it started, or a look for closed jobs (closedJobs, for jobs an earlier run
 * started).
 */
function jobsReportedBy(
  event: HistoryEvent,
  dispatchWorkflowId: string,
  activityTypes: Map<string, string>,
): string[] {
  const signal = event.workflowExecutionSignaledEventAttributes;
  if (signal?.signalName === 'jobFinished') {
    const report = firstPayload(signal.input) as { job_index?: number; jobIndex?: number } | undefined;
    const index = report?.job_index ?? report?.jobIndex;
    return index === undefined ? [] : [`${dispatchWorkflowId}-job-${index}`];
  }
  const closed =
    event.childWorkflowExecutionCompletedEventAttributes ??
    event.childWorkflowExecutionFailedEventAttributes ??
    event.childWorkflowExecutionCanceledEventAttributes ??
    event.childWorkflowExecutionTerminatedEventAttributes ??
    event.childWorkflowExecutionTimedOutEventAttributes;
  if (closed?.workflowExecution?.workflowId) return [closed.workflowExecution.workflowId];
  const completed = event.activityTaskCompletedEventAttributes;
  if (completed && activityTypes.get(String(completed.scheduledEventId)) === 'closedJobs') {
    const jobs = firstPayload(completed.result);
    return Array.isArray(jobs) ? jobs.map((job: { workflowId: string }) => job.workflowId) : [];
  }
  return [];
}

/**
 * Reads a sliding-window parent's history (one run): a child counts as running from its start
 * command until it is reported finished (`report`: however the dispatch learns it, see
 * jobsReportedBy; `child`: the child's close, for the raw baseline), and its start is pending until
 * the server has recorded the child as started. Time after the run's last start command is not
 * counted. `reported` carries the jobs already counted from one run of a dispatch to the next.
 */
export function windowLoss(
  events: HistoryEvent[],
  window: number,
  options: {
    completion: 'report' | 'child';
    /** The dispatch's workflow id, for `report`. */
    workflowId?: string;
    reported?: Set<string>;
    runningAtStart?: number;
    freedBefore?: number[];
  },
): WindowLoss & { runningAtEnd: number; freedAtEnd: number[] } {
  let running = options.runningAtStart ?? 0;
  // Times at which slots were freed and not yet refilled, oldest first.
  const freed = [...(options.freedBefore ?? [])];
  const reported = options.reported ?? new Set<string>();
  const activityTypes = new Map<string, string>();
  let pending = 0;
  let last: number | undefined;
  const lastStart = events.reduce(
    (latest, event, index) =>
      event.eventType === EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED ? index : latest,
    -1,
  );
  const loss: WindowLoss = { ...NO_LOSS };
  const finish = (at: number) => {
    running = Math.max(0, running - 1);
    freed.push(at);
  };
  for (const [index, event] of events.entries()) {
    const at = ms(event.eventTime);
    if (last !== undefined && index <= lastStart) {
      const span = (at - last) / 1000;
      const idle = Math.max(0, window - running) * span;
      loss.slotSeconds += window * span;
      loss.idleSlotSeconds += idle;
      if (pending > 0) loss.idleWhileStartPendingSeconds += idle;
    }
    last = at;
    const scheduled = event.activityTaskScheduledEventAttributes?.activityType?.name;
    if (scheduled) activityTypes.set(String(event.eventId), scheduled);
    switch (event.eventType) {
      case EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED: {
        running++;
        pending++;
        const since = freed.shift();
        if (since !== undefined) {
          loss.refills++;
          loss.refillSeconds += (at - since) / 1000;
        }
        break;
      }
      case EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED:
      case EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED:
        pending = Math.max(0, pending - 1);
        break;
      case EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED:
      case EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED:
        if (options.completion === 'child') finish(at);
        break;
      default:
        break;
    }
    if (options.completion === 'report' && options.workflowId)
      for (const job of jobsReportedBy(event, options.workflowId, activityTypes)) {
        if (reported.has(job)) continue;
        reported.add(job);
        finish(at);
      }
  }
  return { ...loss, runningAtEnd: running, freedAtEnd: freed };
}

export const NO_LOSS: WindowLoss = {
  idleSlotSeconds: 0,
  idleWhileStartPendingSeconds: 0,
  slotSeconds: 0,
  refills: 0,
  refillSeconds: 0,
};

export function addLoss(total: WindowLoss, more: WindowLoss): WindowLoss {
  return {
    idleSlotSeconds: total.idleSlotSeconds + more.idleSlotSeconds,
    idleWhileStartPendingSeconds: total.idleWhileStartPendingSeconds + more.idleWhileStartPendingSeconds,
    slotSeconds: total.slotSeconds + more.slotSeconds,
    refills: total.refills + more.refills,
    refillSeconds: total.refillSeconds + more.refillSeconds,
  };
}
