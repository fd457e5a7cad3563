import type { DispatchFlags } from '../request/options';
import { notifyUrlOf } from '../request/fleet-flags';
import { buildDispatchRequest } from '../request/options';
import { createRequestStore } from '../storage/request-store';
import { analysisNamesOf, settingsOf } from '../workflows/dispatch-rules';
import type { Session } from './common';
import { newDispatchId } from './ids';
import { launch, type LaunchFlags } from './launch';

/** `dispatch`: stores the request, starts the dispatch workflow with a reference to it. */
export async function runDispatch(session: Session, flags: DispatchFlags & LaunchFlags): Promise<number> {
  const request = buildDispatchRequest(flags, session.config);
  const notifyUrl = notifyUrlOf(flags);
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
        dispatchId,
        request_id: dispatchId,
        settings: settingsOf(request),
        analysis_names: names,
      },
      discard: () => requests.delete(dispatchId),
      notifyUrl,
      analysisNames: names,
      summary: `dispatch · ${names.join(', ')}${request.dry_run ? ' · dry run' : ''}`,
      details: `Analyses: ${request.specs.map((s) => `${s.analysis_name} ${s.analysis_version}`).join(', ')}; ${request.num_parallel_workers} parallel jobs, ${request.tasks_per_job} ${request.tasks_per_job === 1 ? 'task' : 'tasks'} per job`,
    },
    flags,
  );
}
