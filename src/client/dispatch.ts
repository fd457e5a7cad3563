import { Command } from 'commander';
import { createPlanStore } from '../planning/store';
import { addDispatchOptions, buildDispatchRequest, type DispatchFlags } from '../planning/options';
import { writeOutputDir } from '../planning/output-dir';
import { workflowUrl } from '../temporal';
import { dispatch } from '../workflows/dispatch';
import { AnalysisNameKey, DispatchIdKey } from '../workflows/search-attributes';
import { EXIT, runCommand } from './common';
import { dispatchWorkflowId, newDispatchId } from './ids';
import { planLines, summaryTable } from './summary';
import { follow, outcomeOf, waitForPlan } from './watch';

export function registerDispatch(program: Command): void {
  addDispatchOptions(
    program
      .command('dispatch')
      .description('Plan the tasks and run them as jobs on the workers; prints the dispatch id and its Web UI link.'),
  )
    .option('--wait', 'follow the dispatch with a progress bar and a summary; exit 0 only if it succeeded')
    .option('--json', 'print machine-readable JSON instead of text')
    .option('--output_dir <dir>', 'also write each planned task as DIR/<worker>/<uuid>.json')
    .action((flags: DispatchFlags & { wait?: boolean; json?: boolean; output_dir?: string }) =>
      runCommand(async (session) => {
        const { config } = session;
        const request = buildDispatchRequest(flags, config);
        const client = await session.temporal();
        const dispatchId = newDispatchId();
        const workflowId = dispatchWorkflowId(dispatchId);
        const names = [...new Set(request.specs.map((spec) => spec.analysis_name))].join(', ');
        const handle = await client.workflow.start(dispatch, {
          taskQueue: config.TEMPORAL_TASK_QUEUE,
          workflowId,
          args: [{ dispatchId, request, continueAsNewAfter: config.ANALYSIS_CONTINUE_AS_NEW_AFTER }],
          typedSearchAttributes: [
            { key: DispatchIdKey, value: dispatchId },
            { key: AnalysisNameKey, value: names },
          ],
          staticSummary: `dispatch · ${names}${request.dry_run ? ' · dry run' : ''}`,
          staticDetails: `Analyses: ${request.specs.map((s) => `${s.analysis_name} ${s.analysis_version}`).join(', ')}; ${request.num_parallel_workers} parallel jobs, ${request.tasks_per_job} tasks per job`,
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
            if (outcome.progress?.plan) for (const line of planLines(outcome.progress.plan)) say(line);
            (outcome.status === 'completed' ? console.log : console.error)(summaryTable(outcome));
          }
          if (outcome.status === 'completed') return EXIT.ok;
          return outcome.errorType === 'InvalidInput' ? EXIT.input : EXIT.failed;
        }
        if (planned.plan) for (const line of planLines(planned.plan)) say(line);
        if (flags.output_dir && planned.plan) {
          const store = createPlanStore((await session.mongo()).db(config.DOCDB_DATABASE));
          const written = await writeOutputDir(flags.output_dir, store.iterateJobs(dispatchId), request.num_parallel_workers);
          say(`wrote ${written} task files under ${flags.output_dir}`);
        }
        if (!flags.wait) {
          if (flags.json) console.log(JSON.stringify({ dispatch_id: dispatchId, workflow_id: workflowId, url, plan: planned.plan }, null, 2));
          else say(`follow it: npx analysis status ${dispatchId} --watch`);
          return EXIT.ok;
        }
        const outcome = await follow(handle, { bar: !flags.json });
        if (flags.json) console.log(JSON.stringify({ dispatch_id: dispatchId, url, ...outcome }, null, 2));
        else console.log(summaryTable(outcome));
        return outcome.status === 'completed' ? EXIT.ok : outcome.status === 'cancelled' ? EXIT.cancelled : EXIT.failed;
      }),
    );
}
