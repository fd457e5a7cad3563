import type { Client } from '@temporalio/client';
import { createNotifyTargets } from '../storage/notify-targets';
import { createPlanStore } from '../storage/plan-store';
import { resolve } from 'node:path';
import { resolveAnalysesDir } from '../analysis/registry';
import { codeDescriber } from '../analysis/software';
import { writeOutputDir } from './output-dir';
import { setupProblem, webUiUrl } from '../temporal';
import { dispatch } from '../workflows/dispatch';
import type { DispatchInput } from '../workflows/messages';
import { AnalysisNameKey, DispatchIdKey, RetryOfKey } from '../workflows/search-attributes';
import { EXIT } from '../dispatch-outcome';
import type { Session } from './common';
import { dispatchWorkflowId } from '../workflow-ids';
import { checkInputSize } from './workflow-input';
import { dispatchPriority, sharingText } from './sharing';
import { announce, reportOutcome } from './follow/summary';
import { awaitPlan, followToEnd } from './follow/watch';

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
  /** Removes what was saved for this dispatch, when it ends before it has planned. */
  discard?: () => Promise<void>;
  /** Where to announce its end (`--notify`), saved in the database under the dispatch id. */
  notifyUrl?: string;
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
  const dispatchId = what.input.dispatchId;
  const workflowId = dispatchWorkflowId(dispatchId);
  const input: DispatchInput = {
    ...what.input,
    continue_as_new_after: config.ANALYSIS_CONTINUE_AS_NEW_AFTER,
    ...(what.notifyUrl ? { notify: dispatchId } : {}),
  };
  const targets = what.notifyUrl
    ? createNotifyTargets((await session.mongo()).db(config.DOCDB_DATABASE))
    : undefined;
  const discard = async () => {
    await what.discard?.().catch(() => undefined);
    await targets?.delete(dispatchId).catch(() => undefined);
  };
  let handle;
  try {
    checkInputSize(`the input of dispatch ${dispatchId}`, input);
    if (targets && what.notifyUrl) await targets.save(dispatchId, what.notifyUrl);
    handle = await startDispatch(client, input, what, workflowId, config.TEMPORAL_TASK_QUEUE);
  } catch (err) {
    await discard();
    throw await setupProblem(client, err);
  }
  const view = { dispatchId, url: webUiUrl(config, 'workflows', workflowId), json: flags.json === true };
  const say = (line: string) => (flags.json ? undefined : console.log(line));
  announce(view);
  const start = await awaitPlan(handle, config.TEMPORAL_TASK_QUEUE, view);
  if ('closed' in start) {
    // Nothing was planned, so nothing will read the request again: leave nothing behind.
    if (!start.closed.progress?.plan) await discard();
    return reportOutcome(start.closed, view);
  }
  const planned = start.planned;
  if (flags.output_dir && planned.plan) {
    const store = createPlanStore((await session.mongo()).db(config.DOCDB_DATABASE));
    const written = await writeOutputDir(flags.output_dir, store.iterateJobs(dispatchId), {
      numWorkers: planned.settings.num_parallel_workers,
      tasksPerJob: planned.settings.tasks_per_job,
      codeOf: codeDescriber(
        resolveAnalysesDir(config.ANALYSIS_MODULES_DIR),
        resolve(config.ANALYSIS_COMMAND_ROOT ?? process.cwd()),
      ),
    });
    say(`wrote ${written} task files under ${flags.output_dir}`);
  }
  if (!flags.wait) {
    if (flags.json)
      console.log(
        JSON.stringify(
          { dispatch_id: dispatchId, workflow_id: workflowId, url: view.url, plan: planned.plan },
          null,
          2,
        ),
      );
    else say(`follow it: analysis status ${dispatchId} --watch`);
    return EXIT.ok;
  }
  return followToEnd(handle, view);
}

function startDispatch(
  client: Client,
  input: DispatchInput,
  what: Launch,
  workflowId: string,
  taskQueue: string,
) {
  const names = what.analysisNames.join(', ');
  const settings = input.kind === 'stored' || input.kind === 'retry' ? input.settings : undefined;
  return client.workflow.start(dispatch, {
    taskQueue,
    workflowId,
    args: [input],
    ...(settings ? dispatchPriority(settings) : {}),
    typedSearchAttributes: [
      { key: DispatchIdKey, value: input.dispatchId },
      { key: AnalysisNameKey, value: names },
      ...(input.kind === 'retry' ? [{ key: RetryOfKey, value: input.retry_of }] : []),
    ],
    staticSummary: `${what.summary}${settings?.priority !== undefined ? ` · priority ${settings.priority}` : ''}`,
    staticDetails: `${what.details}${settings ? sharingText(settings) : ''}`,
  });
}
