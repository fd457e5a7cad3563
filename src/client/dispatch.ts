import type { Command } from 'commander';
import { buildDispatchRequest, type DispatchFlags } from '../planning/options';
import { runCommand } from './common';
import { addDispatchOptions } from './dispatch-flags';
import { analysisNamesOf, settingsOf } from '../workflows/dispatch-rules';
import { createRequestStore } from '../planning/request-store';
import { newDispatchId } from './ids';
import { launch, type LaunchFlags } from './launch';
import { EXIT_CODES_HELP } from './outcome';

export function registerDispatch(program: Command): void {
  addDispatchOptions(
    program
      .command('dispatch')
      .description(
        'Plan the tasks and run them as jobs on the workers; prints the dispatch id and its Web UI link.',
      ),
  )
    .option('--wait', 'follow the dispatch with a progress bar and a summary; exit 0 only if it succeeded')
    .option('--json', 'print machine-readable JSON instead of text')
    .option(
      '--output_dir <dir>',
      'also write each planned task as an AnalysisDispatchModel JSON file: DIR/worker_<n>/<uuid>.json, or DIR/<job_index>/<uuid>.json with --tasks_per_job above 1',
    )
    .addHelpText('after', EXIT_CODES_HELP)
    .action((flags: DispatchFlags & LaunchFlags) =>
      runCommand(async (session) => {
        const request = buildDispatchRequest(flags, session.config);
        const client = await session.temporal();
        const names = analysisNamesOf(request);
        const dispatchId = newDispatchId();
        // The request goes to the database, the workflow gets its id: a CSV of 100,000 ids
        // must not travel through Temporal.
        const requests = createRequestStore((await session.mongo()).db(session.config.DOCDB_DATABASE));
        await requests.save(dispatchId, request);
        return launch(
          session,
          client,
          {
            input: {
              kind: 'stored',
              dispatch_id: dispatchId,
              request_id: dispatchId,
              settings: settingsOf(request),
              analysis_names: names,
            },
            discard: () => requests.delete(dispatchId),
            analysisNames: names,
            summary: `dispatch · ${names.join(', ')}${request.dry_run ? ' · dry run' : ''}`,
            details: `Analyses: ${request.specs.map((s) => `${s.analysis_name} ${s.analysis_version}`).join(', ')}; ${request.num_parallel_workers} parallel jobs, ${request.tasks_per_job} ${request.tasks_per_job === 1 ? 'task' : 'tasks'} per job`,
          },
          flags,
        );
      }),
    );
}
