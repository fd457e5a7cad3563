import { resolve } from 'node:path';
import { provenanceLookups } from '../analysis/provenance-lookups';
import { loadRegistry, resolveAnalysesDir } from '../analysis/registry';
import { buildDispatchRequest, type DispatchFlags } from '../request/options';
import {
  explainLines,
  explainPlanned,
  RecordIndex,
  rollUp,
  taskLabel,
  type Explanation,
} from '../planning/explain';
import { planDispatch, type PlanResult } from '../planning/plan-dispatch';
import { createPlanStore } from '../storage/plan-store';
import { stores } from '../storage/database';
import { createS3 } from '../storage/s3';
import { unservedPoolWarnings } from '../pool-pollers';
import { groupMetadata } from '../aind/dispatch-model';
import type { Session } from './common';
import { estimate, estimateLines, readHistory, type Estimate } from './estimate';
import type { Collection } from 'mongodb';
import type { DispatchRequest, StoredRecord } from '../types';
import { printable } from './terminal-text';
import { planLines } from './follow/summary';

/** `plan`: plans the dispatch these flags describe against the database and S3, storing nothing. */
export async function planPreview(
  session: Session,
  flags: DispatchFlags & { json?: boolean; explain?: boolean },
): Promise<void> {
  const { config } = session;
  const request = buildDispatchRequest(flags, config);
  const mongo = await session.mongo();
  const s3 = createS3(config);
  try {
    const registryDir = resolveAnalysesDir(config.ANALYSIS_MODULES_DIR);
    const db = stores(mongo, config);
    const registry = await loadRegistry(registryDir);
    const lookups = provenanceLookups(registryDir, resolve(config.ANALYSIS_COMMAND_ROOT ?? process.cwd()), {
      registry,
      containerRuntime: config.ANALYSIS_CONTAINER_RUNTIME,
    });
    let index: RecordIndex | undefined;
    const result = await planDispatch(
      {
        assets: db.assets,
        records: db.records,
        s3,
        store: createPlanStore(db.analysisDb),
        registry,
        allowSpecCommands: config.ANALYSIS_ALLOW_SPEC_COMMANDS,
        ...lookups,
        log: () => undefined,
        // Temporal is asked (and connected to) only when a task names a pool.
        poolWarnings: async (pools) =>
          unservedPoolWarnings(await session.temporal(), config.TEMPORAL_TASK_QUEUE, pools),
        // Explaining reads along with planning's one scan of the records: a second would cost as much.
        ...(flags.explain ? { recordReader: (tasks) => (index = new RecordIndex(tasks)) } : {}),
      },
      request,
      'plan-preview',
      { store: false },
    );
    const explanations = index ? await explainPlanned(index, result.tasks, lookups.codeCommit) : undefined;
    const estimated = await estimateOf(result, request, db.records);
    if (flags.json)
      console.log(JSON.stringify({ ...planJson(result, explanations), estimate: estimated }, null, 2));
    else {
      for (const line of planLines(result.summary)) console.log(line);
      for (const line of estimateLines(estimated)) console.log(printable(line));
      // The reasons quote asset names and parameter values as the data holds them.
      if (explanations)
        for (const line of explainLines(explanations, labelsOf(result))) console.log(printable(line));
    }
  } finally {
    s3.destroy();
  }
}

/** What the tasks to run will cost, per analysis version, from the records of earlier runs. */
async function estimateOf(
  result: PlanResult,
  request: DispatchRequest,
  records: Collection<StoredRecord>,
): Promise<Estimate> {
  const key = (name: string, version: string) => JSON.stringify([name, version]);
  const counts = new Map(request.specs.map((spec) => [key(spec.analysis_name, spec.analysis_version), 0]));
  for (const { task, will_run } of result.tasks) {
    const k = key(task.analysis.analysis_name, task.analysis.analysis_version);
    if (will_run) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const tasks = [...counts].map(([k, count]) => {
    const [analysis_name, analysis_version] = JSON.parse(k) as [string, string];
    return { analysis_name, analysis_version, count };
  });
  const history = await readHistory(records, [...new Set(tasks.map((task) => task.analysis_name))]);
  return estimate(tasks, history, request.num_parallel_workers);
}

/**
 * The plan for machines: each task with its status and, for a group, its values as the records
 * name them; with `--explain`, why each task runs and the tasks grouped by the same differences.
 */
export function planJson(result: PlanResult, explanations?: Explanation[]) {
  const byHash = new Map(explanations?.map((explanation) => [explanation.hash, explanation]));
  return {
    summary: result.summary,
    ...(explanations ? { explain: rollUp(explanations, labelsOf(result)) } : {}),
    tasks: result.tasks.map(({ task, status, will_run, changed_inputs, upstream_record }) => {
      const explanation = byHash.get(task.hash);
      return {
        status,
        will_run,
        group_metadata: groupMetadata(task.group),
        ...(changed_inputs?.length ? { changed_inputs } : {}),
        ...(upstream_record ? { upstream_record } : {}),
        ...(explanation
          ? {
              explanation: {
                reason: explanation.reason,
                record: explanation.record,
                differences: explanation.differences,
              },
            }
          : {}),
        task,
      };
    }),
  };
}

const labelsOf = (result: PlanResult) =>
  new Map(result.tasks.map(({ task }) => [task.hash, taskLabel(task)]));
