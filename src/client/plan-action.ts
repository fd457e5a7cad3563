import { resolve } from 'node:path';
import { provenanceLookups } from '../analysis/provenance-lookups';
import { loadRegistry, resolveAnalysesDir } from '../analysis/registry';
import { buildDispatchRequest, type DispatchFlags } from '../planning/options';
import { planDispatch, type PlanResult } from '../planning/plan-dispatch';
import { createPlanStore } from '../planning/store';
import { stores } from '../storage/database';
import { createS3 } from '../storage/s3';
import { unservedPoolWarnings } from '../pool-pollers';
import { groupMetadata } from '../aind/dispatch-model';
import type { Session } from './common';
import { planLines } from './summary';

/** `plan`: plans the dispatch these flags describe against the database and S3, storing nothing. */
export async function planPreview(
  session: Session,
  flags: DispatchFlags & { json?: boolean },
): Promise<void> {
  const { config } = session;
  const request = buildDispatchRequest(flags, config);
  const mongo = await session.mongo();
  const s3 = createS3(config);
  try {
    const registryDir = resolveAnalysesDir(config.ANALYSIS_MODULES_DIR);
    const db = stores(mongo, config);
    const lookups = provenanceLookups(registryDir, resolve(config.ANALYSIS_COMMAND_ROOT ?? process.cwd()));
    const result = await planDispatch(
      {
        assets: db.assets,
        records: db.records,
        s3,
        store: createPlanStore(db.analysisDb),
        registry: await loadRegistry(registryDir),
        allowSpecCommands: config.ANALYSIS_ALLOW_SPEC_COMMANDS,
        ...lookups,
        log: () => undefined,
        // Temporal is asked (and connected to) only when a task names a pool.
        poolWarnings: async (pools) =>
          unservedPoolWarnings(await session.temporal(), config.TEMPORAL_TASK_QUEUE, pools),
      },
      request,
      'plan-preview',
      { store: false },
    );
    if (flags.json) console.log(JSON.stringify(planJson(result), null, 2));
    else for (const line of planLines(result.summary)) console.log(line);
  } finally {
    s3.destroy();
  }
}

/** The plan for machines: each task with its status and, for a group, its values as the records name them. */
export function planJson(result: PlanResult) {
  return {
    summary: result.summary,
    tasks: result.tasks.map(({ task, status, will_run }) => ({
      status,
      will_run,
      group_metadata: groupMetadata(task.group),
      task,
    })),
  };
}
