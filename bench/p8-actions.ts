import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { fetchEvents, runsOf, sampleIndexes } from './histories';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const EventType = temporal.api.enums.v1.EventType;

/** Actions of one history, by the kind Temporal Cloud bills them as. */
export type ActionCounts = Record<string, number>;

/**
 * The billable actions a history shows, as Temporal Cloud counts them: a workflow start (a child's
 * and a continue-as-new run's too), each activity scheduled and each retry of one, the local
 * activities of one workflow task as one action, each timer, each signal received, each search
 * attribute or memo upsert, each update accepted. Queries are billed too but leave no trace in a
 * history; none of the workflows measured here is queried except by the bench's own sampling.
 */
export function billableActions(events: HistoryEvent[]): ActionCounts {
  const counts: ActionCounts = {};
  const add = (kind: string) => (counts[kind] = (counts[kind] ?? 0) + 1);
  let localActivityInTask = false;
  for (const event of events) {
    switch (event.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        add('workflow start');
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        add('activity');
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
        if ((event.activityTaskStartedEventAttributes?.attempt ?? 1) > 1) add('activity retry');
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        localActivityInTask = false;
        break;
      case EventType.EVENT_TYPE_MARKER_RECORDED:
        if (
          !localActivityInTask &&
          event.markerRecordedEventAttributes?.markerName === 'core_local_activity'
        ) {
          localActivityInTask = true;
          add('local activities');
        }
        break;
      case EventType.EVENT_TYPE_TIMER_STARTED:
        add('timer');
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        add('signal');
        break;
      case EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
      case EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED:
        add('upsert');
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
        add('update');
        break;
    }
  }
  return counts;
}

function addInto(total: ActionCounts, more: ActionCounts, weight = 1): void {
  for (const [kind, count] of Object.entries(more)) total[kind] = (total[kind] ?? 0) + count * weight;
}

const sum = (counts: ActionCounts) => Object.values(counts).reduce((a, b) => a + b, 0);

export interface ActionsPerUnit {
  /** Mean billable actions per task (or per baseline child), all kinds together. */
  total: number;
  byKind: ActionCounts;
  /** Histories read: the parent's runs and the sampled children. */
  histories: number;
}

/**
 * Actions per unit of work of a parent and its children: every run of the parent, plus the mean of
 * `sample` children (evenly spread) times their number, over the units they carried.
 */
async function perUnit(
  client: Client,
  parentId: string,
  childIds: (index: number) => string,
  children: number,
  units: number,
  sample: number,
): Promise<ActionsPerUnit> {
  const total: ActionCounts = {};
  let histories = 0;
  for (const runId of await runsOf(client, parentId)) {
    addInto(total, billableActions(await fetchEvents(client, parentId, runId)));
    histories++;
  }
  const indexes = sampleIndexes(children, sample);
  const sampled: ActionCounts = {};
  for (const index of indexes) {
    addInto(sampled, billableActions(await fetchEvents(client, childIds(index))));
    histories++;
  }
  addInto(total, sampled, children / Math.max(1, indexes.length));
  const byKind: ActionCounts = {};
  for (const [kind, count] of Object.entries(total)) byKind[kind] = count / units;
  return { total: sum(total) / units, byKind, histories };
}

/** P8 for a dispatch: its runs and a sample of its jobs, per task. */
export function dispatchActions(
  client: Client,
  dispatchWorkflowId: string,
  jobs: number,
  tasks: number,
  sample = 20,
): Promise<ActionsPerUnit> {
  return perUnit(client, dispatchWorkflowId, (i) => `${dispatchWorkflowId}-job-${i}`, jobs, tasks, sample);
}

/** P8's baseline: the raw parent and a sample of its children, per child. */
export function baselineActions(
  client: Client,
  parentId: string,
  children: number,
  sample = 20,
): Promise<ActionsPerUnit> {
  return perUnit(client, parentId, (i) => `${parentId}-child-${i}`, children, children, sample);
}
