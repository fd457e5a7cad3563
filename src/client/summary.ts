import type { PlanSummary } from '../types';
import type { DispatchProgress } from '../workflows/messages';
import type { Outcome } from './outcome';
import { textTable } from './table';

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
  if (plan.tasks_changed_inputs)
    lines.push(`${plan.tasks_changed_inputs} done tasks have an input that changed since their record`);
  for (const warning of plan.warnings) lines.push(`warning: ${warning}`);
  return lines;
}

/** Seconds from the start of the dispatch to its end, or to now while it runs. */
export function elapsedSeconds(outcome: Outcome, now = Date.now()): number {
  if (!outcome.progress) return 0;
  return Math.max(0, ((outcome.endedAt ?? now) - outcome.progress.started_at) / 1000);
}

export function tasksPerSecond(outcome: Outcome, now = Date.now()): number {
  const seconds = elapsedSeconds(outcome, now);
  return outcome.progress && seconds > 0 ? outcome.progress.tasks_finished / seconds : 0;
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
  return `phase ${progress.phase}: ${progress.tasks_finished}/${progress.plan?.tasks_to_run ?? '?'} tasks finished, ${progress.running} of ${progress.settings.num_parallel_workers} jobs running`;
}

/** The status line, the counts with time and rate, and the first failures with their errors. */
export function summaryText(outcome: Outcome, dispatchId: string, now = Date.now()): string {
  const progress = outcome.progress;
  const out = [`dispatch ${dispatchId} ${outcome.status}${outcome.error ? `: ${outcome.error}` : ''}`];
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
      const failures = textTable({
        head: ['failed task', 'asset', 'error'],
        colWidths: [16, 40, 70],
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
