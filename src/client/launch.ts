import type { Client } from '@temporalio/client';
import { createPlanStore } from '../planning/store';
import { writeOutputDir } from '../planning/output-dir';
import { workflowUrl } from '../temporal';
import { dispatch } from '../workflows/dispatch';
import type { DispatchInput } from '../workflows/messages';
import { AnalysisNameKey, DispatchIdKey, RetryOfKey } from '../workflows/search-attributes';
import { EXIT, type Session } from './common';
import { dispatchWorkflowId } from '../workflow-ids';
import { planLines, summaryTable } from './summary';
import { exitCodeOf, follow, outcomeOf, waitForPlan } from './watch';

export interface LaunchFlags {
  wait?: boolean;
  json?: boolean;
  output_dir?: string;
}

export interface Launch {
  input: DispatchInput;
  analysisNames: string[];
  summary: string;
  details: string;
}

/**
 * Starts a dispatch workflow and reports on it the same way for `dispatch` and `retry`: the id
 * and link at once, the plan when it is ready (or the reason it failed), then, with --wait, a
 * progress bar and the summary.
 */
export async function launch(
  session: Session,
  client: Client,
  what: Launch,
  flags: LaunchFlags,
): Promise<number> {
  const { config } = session;
  const dispatchId = what.input.dispatch_id;
  const workflowId = dispatchWorkflowId(dispatchId);
  const names = what.analysisNames.join(', ');
  const handle = await client.workflow.start(dispatch, {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowId,
    args: [{ ...what.input, continue_as_new_after: config.ANALYSIS_CONTINUE_AS_NEW_AFTER }],
    typedSearchAttributes: [
      { key: DispatchIdKey, value: dispatchId },
      { key: AnalysisNameKey, value: names },
      ...(what.input.kind === 'retry' ? [{ key: RetryOfKey, value: what.input.retry_of }] : []),
    ],
    staticSummary: what.summary,
    staticDetails: what.details,
  });
  const url = workflowUrl(config, workflowId);
  const say = (line: string) => (flags.json ? undefined : console.log(line));
  say(`dispatch ${dispatchId}`);
  say(`web ui   ${url}`);

  const planned = await waitForPlan(handle, config.TEMPORAL_TASK_QUEUE);
  if (!planned) {
    // Closed already: failed in planning, or nothing was left to run.
    const outcome = await outcomeOf(handle);
    if (flags.json) console.log(JSON.stringify({ dispatch_id: dispatchId, url, ...outcome }, null, 2));
    else {
      const plan = outcome.progress?.plan;
      if (plan) for (const line of planLines(plan)) say(line);
      // A dispatch that planned and ran (quickly) gets its summary where --wait prints it; one that
      // failed in planning gets an error message.
      (outcome.status === 'completed' || plan ? console.log : console.error)(summaryTable(outcome));
    }
    return exitCodeOf(outcome);
  }
  if (planned.plan) for (const line of planLines(planned.plan)) say(line);
  if (flags.output_dir && planned.plan) {
    const store = createPlanStore((await session.mongo()).db(config.DOCDB_DATABASE));
    const written = await writeOutputDir(
      flags.output_dir,
      store.iterateJobs(dispatchId),
      planned.settings.num_parallel_workers,
    );
    say(`wrote ${written} task files under ${flags.output_dir}`);
  }
  if (!flags.wait) {
    if (flags.json)
      console.log(
        JSON.stringify(
          { dispatch_id: dispatchId, workflow_id: workflowId, url, plan: planned.plan },
          null,
          2,
        ),
      );
    else say(`follow it: npx analysis status ${dispatchId} --watch`);
    return EXIT.ok;
  }
  const outcome = await follow(handle, { bar: !flags.json });
  if (flags.json) console.log(JSON.stringify({ dispatch_id: dispatchId, url, ...outcome }, null, 2));
  else console.log(summaryTable(outcome));
  return exitCodeOf(outcome);
}
