import type { PlanSummary } from '../../types';
import type { DispatchProgress } from '../../workflows/messages';
import {
  elapsedSeconds,
  exitCodeOf,
  failedBeforePlanning,
  tasksPerSecond,
  type Outcome,
  type OutcomeView,
} from '../../dispatch-outcome';
import { sharingText } from '../sharing';
import { TABLE_WIDTH, textTable } from '../table';
import { printable } from '../terminal-text';

export function planLines(plan: PlanSummary): string[] {
  const lines = [
    `${plan.tasks_total} tasks from ${plan.assets} assets: ${plan.tasks_new} new, ${plan.tasks_done} already done, ${plan.tasks_changed_code} done by different code`,
    `${plan.tasks_to_run} to run in ${plan.jobs} jobs`,
  ];
  if (plan.capped_from !== undefined)
    lines.push(
      `${plan.capped_from - plan.tasks_to_run} of ${plan.capped_from} tasks to run left out by --max_number_of_tasks_dispatched ${plan.tasks_to_run}; a rerun moves on to them`,
    );
  if (plan.tasks_changed_code > 0)
    lines.push(
      'tasks done by different code are skipped: bump analysis_version or pass --force to rerun them',
    );
  if (plan.tasks_done_upstream)
    lines.push(
      `${plan.tasks_done_upstream} of the done tasks have a record by the wrapper code their spec names (upstream_code): skipped unless --force`,
    );
  if (plan.tasks_changed_inputs)
    lines.push(`${plan.tasks_changed_inputs} done tasks have an input that changed since their record`);
  for (const warning of plan.warnings) lines.push(`warning: ${printable(warning)}`);
  return lines;
}

/** What the progress bar shows; absent until the dispatch has a plan. */
export function barFigures(progress: DispatchProgress) {
  if (!progress.plan) return undefined;
  return {
    total: progress.plan.tasks_to_run,
    finished: progress.tasks_finished,
    running: progress.running,
    failed: progress.counts.failed,
  };
}

/** Where a dispatch stands, for `status`: its phase, tasks finished and jobs running. */
export function phaseLine(progress: DispatchProgress): string {
  return `phase ${progress.phase}: ${progress.tasks_finished}/${progress.plan?.tasks_to_run ?? '?'} tasks finished, ${progress.running} of ${progress.settings.num_parallel_workers} jobs running${printable(sharingText(progress.settings))}`;
}

/** The status line, the counts with time and rate, and the first failures with their errors. */
export function summaryText(outcome: Outcome, dispatchId: string, now = Date.now()): string {
  const progress = outcome.progress;
  const out = [
    `dispatch ${dispatchId} ${outcome.status}${outcome.error ? `: ${printable(outcome.error)}` : ''}`,
  ];
  if (progress) {
    const c = progress.counts;
    const table = textTable({
      head: ['succeeded', 'skipped (done)', 'skipped (other code)', 'failed', 'cancelled', 'elapsed', 'rate'],
    });
    table.push([
      c.succeeded,
      c.skipped,
      c.changed_code,
      c.failed,
      c.cancelled,
      `${elapsedSeconds(outcome, now).toFixed(1)} s`,
      `${tasksPerSecond(outcome, now).toFixed(2)} tasks/s`,
    ]);
    out.push(table.toString());
    if (progress.failures.length > 0) {
      // The asset column as wide as its names (up to 40), the error the rest of the line: errors
      // are what the reader came for.
      const names = progress.failures.map((failure) => printable(failure.asset_name ?? '').length);
      const assetWidth = Math.min(40, Math.max('asset'.length, ...names) + 2);
      const hashWidth = 14;
      const failures = textTable({
        head: ['failed task', 'asset', 'error'],
        colWidths: [hashWidth, assetWidth, TABLE_WIDTH - 4 - hashWidth - assetWidth],
        wordWrap: true,
      });
      for (const failure of progress.failures)
        failures.push([failure.hash.slice(0, 12), failure.asset_name, failure.error]);
      out.push(failures.toString());
      if (c.failed > progress.failures.length)
        out.push(`... and ${c.failed - progress.failures.length} more failed tasks`);
    }
  }
  return out.join('\n');
}

/** The dispatch id and its Web UI link, first of all, so that the user can follow it elsewhere. */
export function announce(view: OutcomeView): void {
  if (!view.json) console.log(`dispatch ${view.dispatchId}\nweb ui   ${view.url}`);
}

/** What `--json` prints: snake_case throughout, like the progress it carries. */
export function outcomeJson(outcome: Outcome, view: OutcomeView, now = Date.now()) {
  return {
    dispatch_id: view.dispatchId,
    url: view.url,
    status: outcome.status,
    error: outcome.error,
    error_type: outcome.errorType,
    elapsed_s: elapsedSeconds(outcome, now),
    tasks_per_s: tasksPerSecond(outcome, now),
    progress: outcome.progress,
  };
}

/**
 * Prints the summary of a dispatch and answers the command's exit code: the one ending of
 * `dispatch --wait`, `retry --wait`, `status [--watch]` and `schedule trigger --wait`.
 */
export function reportOutcome(outcome: Outcome, view: OutcomeView): number {
  if (view.json) console.log(JSON.stringify(outcomeJson(outcome, view), null, 2));
  else if (failedBeforePlanning(outcome)) console.error(summaryText(outcome, view.dispatchId));
  else console.log(summaryText(outcome, view.dispatchId));
  return exitCodeOf(outcome);
}
