/**
 * Records the histories the replay test feeds back to the workflow code: a dispatch (its first
 * run, which plans, and a continued run) and a job, from a small real dispatch on the local stack.
 * Record a new set after a workflow change, under a label of its own, and keep the sets of every
 * version whose workflows may still be running: the replay test then proves the current code
 * replays them. A set is removed only when its version retires (see "Upgrading workers" in the
 * README).
 *   eval "$(./temporal-dev.sh env)"; npx tsx scripts/record-histories.ts v6
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seedAssets } from '../test/helpers/data';
import { ROOT, testStack } from '../test/helpers/stack';
import { newDispatchId } from '../src/client/ids';
import { dispatchWorkflowId } from '../src/workflow-ids';
import { dispatch } from '../src/workflows/dispatch';

const OUT = join(ROOT, 'test', 'histories');
const IDS = join(OUT, 'workflow-ids.json');
const label = process.argv[2] ?? '';
if (!/^[a-z0-9][a-z0-9.-]*$/i.test(label)) {
  console.error(
    'usage: record-histories.ts <label>   (e.g. v6: files are saved as v6-dispatch-*.json, v6-job-*.json)',
  );
  process.exit(2);
}

/** Workflow id of each saved history (workflow code derives child ids from its own), all sets. */
const ids: Record<string, string> = existsSync(IDS)
  ? (JSON.parse(readFileSync(IDS, 'utf8')) as Record<string, string>)
  : {};

/** The Temporal CLI's JSON export, the format the SDK's replayer reads. */
function save(name: string, workflowId: string, runId?: string): void {
  const file = `${label}-${name}`;
  if (existsSync(join(OUT, file))) throw new Error(`${file} exists: record under a new label`);
  ids[file] = workflowId;
  const args = [
    'workflow',
    'show',
    '--workflow-id',
    workflowId,
    '--output',
    'json',
    '--address',
    process.env.TEMPORAL_ADDRESS ?? 'localhost:7233',
  ];
  if (runId) args.push('--run-id', runId);
  writeFileSync(join(OUT, file), execFileSync(join(ROOT, '.dev', 'venv', 'bin', 'temporal'), args));
}

async function main(): Promise<void> {
  const stack = await testStack('histories');
  try {
    await stack.startWorker({ ANALYSIS_MODULES_DIR: join(ROOT, 'test', 'fixtures', 'analyses') });
    await seedAssets(stack, { count: 3 });
    const dispatchId = newDispatchId();
    const workflowId = dispatchWorkflowId(dispatchId);
    const handle = await stack.client.workflow.start(dispatch, {
      taskQueue: stack.config.TEMPORAL_TASK_QUEUE,
      workflowId,
      priority: { priorityKey: 2, fairnessKey: 'histories' },
      args: [
        {
          kind: 'new',
          dispatchId,
          continue_as_new_after: 2,
          // No address is saved under it: the notification step is recorded, and sends nothing.
          notify: dispatchId,
          request: {
            query: { name: { $regex: '^asset_' } },
            asset_id_field: '_id',
            split_files: true,
            group_by: [],
            specs: [
              {
                analysis_name: 'Fail When',
                analysis_version: '1',
                analysis_libraries: [],
                analysis_parameters: {},
                s3_output_bucket: stack.bucket,
                max_attempts: 1,
              },
            ],
            fixed_parameters: {},
            distributed_parameters: [{ fail: false }, { fail: true }],
            tasks_per_job: 1,
            num_parallel_workers: 2,
            dry_run: false,
            force: false,
            tolerated_failure_count: 3,
          },
        },
      ],
    });
    const result = await handle.result();
    console.log(
      `dispatch ${dispatchId}: ${result.phase}, ${result.counts.succeeded} succeeded, ${result.counts.failed} failed, ${result.runs} runs`,
    );
    const firstRunId = (await handle.describe()).raw.workflowExecutionInfo?.firstRunId ?? undefined;
    save('dispatch-first-run.json', workflowId, firstRunId);
    save('dispatch-last-run.json', workflowId);
    save('job-0.json', `${workflowId}-job-0`);
    save('job-1.json', `${workflowId}-job-1`);
    writeFileSync(IDS, JSON.stringify(ids, null, 2) + '\n');
    console.log(`histories written to ${OUT}`);
  } finally {
    await stack.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
