import type { Priority } from '@temporalio/common';
import type { DispatchSettings } from '../types';

/**
 * The priority a dispatch starts with. Its jobs, their steps and the runs it continues as new
 * inherit it from the server, so no workflow passes it on; settings of earlier versions have none.
 */
export function dispatchPriority(settings: DispatchSettings): { priority?: Priority } {
  if (settings.priority === undefined && settings.fairness_key === undefined) return {};
  return {
    priority: {
      ...(settings.priority !== undefined ? { priorityKey: settings.priority } : {}),
      ...(settings.fairness_key ? { fairnessKey: settings.fairness_key } : {}),
    },
  };
}

/** "; priority 1, fairness key alice": how the dispatch shares the workers, for the Web UI and `status`. */
export function sharingText(settings: DispatchSettings): string {
  const parts = [
    ...(settings.priority !== undefined ? [`priority ${settings.priority}`] : []),
    ...(settings.fairness_key ? [`fairness key ${settings.fairness_key}`] : []),
  ];
  return parts.length ? `; ${parts.join(', ')}` : '';
}
