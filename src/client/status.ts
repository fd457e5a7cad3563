import { groupFailures, type FailureGroups } from '../failure-signature';
import { webUiUrl } from '../temporal';
import { uiUrlFromEnv } from '../ui-url';
import { dispatchIdOf, dispatchWorkflowId } from '../workflow-ids';
import { exitCodeOf, type Outcome, type OutcomeView } from '../dispatch-outcome';
import type { Session } from './common';
import type * as Reads from './follow/reads';
import { announce, outcomeJson, phaseLine, planLines, reportOutcome } from './follow/summary';
import type * as Watch from './follow/watch';
import { leanCurrentOutcome } from './follow/status-read';
import { printable } from './terminal-text';

// The SDK's client is loaded only to watch, or when the lean reads cannot answer.
const loadReads = () => require('./follow/reads') as typeof Reads;
const loadWatch = () => require('./follow/watch') as typeof Watch;

/** The failures a dispatch kept, grouped by cause; absent when none failed. */
export function statusFailureGroups(outcome: Outcome): FailureGroups | undefined {
  const failures = outcome.progress?.failures ?? [];
  return failures.length > 0 ? groupFailures(failures) : undefined;
}

/**
 * "12 failed: 9 x <cause> (e.g. asset X), 3 x <cause>": the failures as the few causes they are.
 * The dispatch keeps its first failures only; past them the groups say how many they cover.
 */
export function failureGroupsLine(failed: number, grouped: FailureGroups): string {
  const causes = grouped.groups.map((group) => {
    const example = group.example_assets[0];
    return `${group.count} x "${group.signature}"${example ? ` (e.g. asset ${example})` : ''}`;
  });
  if (grouped.other_groups > 0)
    causes.push(`${grouped.other_failures} x ${grouped.other_groups} other causes`);
  const kept = grouped.sampled < failed ? `, the first ${grouped.sampled} by cause` : '';
  return printable(`${failed} failed${kept}: ${causes.join(', ')}`);
}

/** `status`: where a dispatch stands, or how it ended, with its failures grouped by cause. */
export async function showStatus(
  session: Session,
  id: string,
  flags: { watch?: boolean; json?: boolean },
): Promise<number> {
  const dispatchId = dispatchIdOf(id);
  const view: OutcomeView = {
    dispatchId,
    url: webUiUrl({ TEMPORAL_UI_URL: uiUrlFromEnv() }, 'workflows', dispatchWorkflowId(dispatchId)),
    json: flags.json === true,
  };
  if (flags.watch) {
    const { dispatchHandle, readClosedOutcome } = loadReads();
    const handle = dispatchHandle(await session.temporal(), dispatchId);
    const code = await loadWatch().watchDispatch(handle, session.config.TEMPORAL_TASK_QUEUE, view);
    // The summary is printed; the causes follow it (JSON output stays the one summary object).
    if (!view.json) printGroups(await readClosedOutcome(handle).catch(() => undefined));
    return code;
  }
  const outcome =
    (await leanCurrentOutcome(dispatchWorkflowId(dispatchId))) ??
    (await (async () => {
      const { dispatchHandle, readCurrentOutcome } = loadReads();
      return readCurrentOutcome(dispatchHandle(await session.temporal(), dispatchId));
    })());
  if (view.json) {
    const groups = statusFailureGroups(outcome);
    console.log(
      JSON.stringify(
        { ...outcomeJson(outcome, view), ...(groups ? { failure_groups: groups } : {}) },
        null,
        2,
      ),
    );
    return exitCodeOf(outcome);
  }
  const progress = outcome.progress;
  announce(view);
  if (progress) {
    if (progress.plan) for (const line of planLines(progress.plan)) console.log(line);
    console.log(phaseLine(progress));
  }
  const code = reportOutcome(outcome, view);
  printGroups(outcome);
  return code;
}

function printGroups(outcome: Outcome | undefined): void {
  const groups = outcome && statusFailureGroups(outcome);
  if (outcome?.progress && groups) console.log(failureGroupsLine(outcome.progress.counts.failed, groups));
}
