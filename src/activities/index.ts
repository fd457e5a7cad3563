import type { S3Client } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import type { ContainerRuntime } from '../analysis/container-options';
import type { AnalysisRegistry } from '../analysis/definition';
import { createPlanStore } from '../storage/plan-store';
import type { Stores } from '../storage/database';
import { idLookups } from '../storage/id-lookups';
import { s3ObjectStore } from '../storage/object-store';
import { createPlanActivities } from './planning';
import { provenanceLookups } from '../analysis/provenance-lookups';
import { createLeases } from '../storage/leases';
import type { RunMetrics } from '../workers/metrics';
import { createRecordActivities, workflowIsRunning, workflowTaskLocks } from './records';
import { createRunActivities } from './run';
import { createJobActivities } from './jobs';
import { createNotifyActivities } from './notify';
import { createNotifyTargets } from '../storage/notify-targets';
import { createStorageActivities } from './storage';

export interface ActivityDeps {
  stores: Stores;
  s3: S3Client;
  registry: AnalysisRegistry;
  registryDir: string;
  commandRoot: string;
  passEnv: string[];
  allowSpecCommands: boolean;
  /** Absent: podman. */
  containerRuntime?: ContainerRuntime;
  requireContainers?: boolean;
  workRoot: string;
  workerQueue: string;
  temporal: () => Client;
  metrics?: RunMetrics;
}

/** Every activity of the system, built once per worker over its clients. */
export function createActivities(deps: ActivityDeps) {
  const lookups = provenanceLookups(deps.registryDir, deps.commandRoot, {
    specCommands: deps.allowSpecCommands,
    registry: deps.registry,
    containerRuntime: deps.containerRuntime,
  });
  // One store for planning and jobs: jobs started in order share the plan pages it caches.
  const plans = createPlanStore(deps.stores.analysisDb);
  const taskLocks = workflowTaskLocks(deps.stores.locks, deps.temporal);
  const records = createRecordActivities({
    records: deps.stores.records,
    taskLocks,
    codeCommit: (task) => lookups.codeCommit(task.analysis),
    plans,
    findByIds: idLookups(deps.stores.analysisDb),
    objects: s3ObjectStore(deps.s3),
  });
  return {
    ...createPlanActivities({
      stores: deps.stores,
      plans,
      s3: deps.s3,
      registry: deps.registry,
      allowSpecCommands: deps.allowSpecCommands,
      ...lookups,
    }),
    ...records,
    ...createJobActivities({ temporal: deps.temporal }),
    ...createRunActivities({
      ...deps,
      records: deps.stores.records,
      taskLocks,
      leases: createLeases({ leases: deps.stores.leases, isRunning: workflowIsRunning(deps.temporal) }),
    }),
    ...createStorageActivities({ s3: deps.s3, records: deps.stores.records }),
    ...createNotifyActivities({ targets: createNotifyTargets(deps.stores.analysisDb) }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
