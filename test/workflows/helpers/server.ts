import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  bundleWorkflowCode,
  DefaultLogger,
  Runtime,
  Worker,
  type LogEntry,
  type WorkflowBundle,
} from '@temporalio/worker';
import type { Activities } from '../../../src/activities';
import { AnalysisNameKey, DispatchIdKey, RetryOfKey } from '../../../src/workflows/search-attributes';
import { routeActivities } from './activities';

const ROOT = join(__dirname, '..', '..', '..');

/**
 * Errors of the SDK itself only. Failed activities and workflows (warnings) are what many tests
 * provoke, and the workflows' own messages (every failed task logs one) say the same: the tests
 * assert on what those runs returned instead.
 */
const logger = new DefaultLogger('ERROR', (entry: LogEntry) => {
  const component = entry.meta?.sdkComponent;
  if (component === 'workflow' || component === 'activity') return;
  console.error(`[${entry.level}] ${entry.message}`, entry.meta ?? '');
});
let runtimeInstalled = false;

/**
 * Gives the SDK the logger above, core's own warnings included (the nondeterminism the replay
 * test provokes, for one). Called right before the first server or worker: a runtime that is made
 * and never used keeps the process from exiting.
 */
export function useQuietRuntime(): void {
  if (runtimeInstalled) return;
  Runtime.install({ logger, telemetryOptions: { logging: { filter: { core: 'ERROR' }, forward: {} } } });
  runtimeInstalled = true;
}

/** The Temporal CLI that ./temporal-dev.sh installs, or the one TEMPORAL_CLI_PATH names. */
function temporalCli(): string {
  const path = process.env.TEMPORAL_CLI_PATH || join(ROOT, '.dev', 'venv', 'bin', 'temporal');
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(
      `no Temporal CLI at ${path}: run ./temporal-dev.sh install temporal, or set TEMPORAL_CLI_PATH to a temporal binary`,
    );
  }
  return path;
}

/**
 * A Temporal dev server of its own (in memory, on a free port) with the search attributes the
 * workflows set. It cannot skip time: the time-skipping test server is a download this machine
 * cannot make, so the workflows' timers run in real time.
 */
export async function startTestServer(): Promise<TestWorkflowEnvironment> {
  const path = temporalCli();
  useQuietRuntime();
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path },
      searchAttributes: [DispatchIdKey, AnalysisNameKey, RetryOfKey],
    },
  });
}

/** Bundles a workflows module once, for every worker of a test file. */
export function bundleWorkflows(
  workflowsPath = require.resolve('../../../src/workflows'),
): Promise<WorkflowBundle> {
  return bundleWorkflowCode({ workflowsPath, logger });
}

/** One worker per test file; each test's workflows reach the stubs that test gave. */
export interface TestWorker {
  taskQueue: string;
  /** Serves the activities of this workflow, and of its jobs, with these stubs. */
  serve(workflowId: string, activities: Activities): void;
  stop(): Promise<void>;
}

/**
 * Starts the file's worker. Creating a worker costs about a second (it loads the bundle), so the
 * tests share one and its activities go to the stubs of the workflow that called them, told apart
 * by workflow id: a dispatch's own, or one of its jobs' (`<dispatch workflow id>-job-<n>`).
 */
export async function startWorker(
  env: TestWorkflowEnvironment,
  workflowBundle: WorkflowBundle,
): Promise<TestWorker> {
  const served = new Map<string, Activities>();
  const stubsOf = (workflowId: string): Activities => {
    for (const [owner, stubs] of served)
      if (workflowId === owner || workflowId.startsWith(`${owner}-job-`)) return stubs;
    throw ApplicationFailure.create({
      type: 'NotStubbed',
      message: `no stubs for the activities of ${workflowId}`,
      nonRetryable: true,
    });
  };
  const taskQueue = `workflow-tests-${process.pid}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle,
    activities: routeActivities(
      (name) => stubsOf(Context.current().info.workflowExecution?.workflowId ?? '')[name],
    ),
    // Cancellation reaches an activity with the answer to its heartbeat: answer blocked stubs soon.
    maxHeartbeatThrottleInterval: '100 ms',
    defaultHeartbeatThrottleInterval: '100 ms',
  });
  const running = worker.run();
  return {
    taskQueue,
    serve: (workflowId, activities) => served.set(workflowId, activities),
    async stop() {
      worker.shutdown();
      await running;
    },
  };
}
