import Table from 'cli-table3';
import type { PlanSummary } from '../types';
import type { DispatchProgress } from '../workflows/messages';
import type { Outcome } from './watch';

/** Plain tables when the output is not a terminal (files, pipes, CI logs). */
export const tableStyle = process.stdout.isTTY ? {} : { style: { head: [], border: [] } };

export function planLines(plan: PlanSummary): string[] {
  const lines = [
    `${plan.tasks_total} tasks from ${plan.assets} assets: ${plan.tasks_new} new, ${plan.tasks_done} already done, ${plan.tasks_changed_code} done by different code`,
    `${plan.tasks_to_run} to run in ${plan.jobs} jobs`,
  ];
  if (plan.capped_from !== undefined)
    lines.push(
      `capped at ${plan.tasks_total} of ${plan.capped_from} tasks (--max_number_of_tasks_dispatched)`,
    );
  if (plan.tasks_changed_code > 0)
    lines.push(
      'tasks done by different code are skipped: bump analysis_version or pass --force to rerun them',
    );
  for (const warning of plan.warnings) lines.push(`warning: ${warning}`);
  return lines;
}

function seconds(progress: DispatchProgress): number {
  return Math.max(0.001, (Date.now() - progress.startedAt) / 1000);
}

export function summaryTable(outcome: Outcome): string {
  const progress = outcome.progress;
  const out: string[] = [];
  out.push(
    `dispatch ${progress?.dispatchId ?? ''} ${outcome.status}${outcome.error ? `: ${outcome.error}` : ''}`,
  );
  if (progress) {
    const c = progress.counts;
    const table = new Table({
      ...tableStyle,
      head: ['succeeded', 'skipped (done)', 'skipped (other code)', 'failed', 'cancelled', 'elapsed'],
    });
    table.push([
      c.succeeded,
      c.skipped,
      c.changedCode,
      c.failed,
      c.cancelled,
      `${seconds(progress).toFixed(1)} s`,
    ]);
    out.push(table.toString());
    if (progress.failures.length > 0) {
      const failures = new Table({
        ...tableStyle,
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
