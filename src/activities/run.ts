import { mkdtemp, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Collection } from 'mongodb';
import type { ContainerRuntime } from '../analysis/container-options';
import type { AnalysisRegistry } from '../analysis/definition';
import { codeDirOf, codeProvenance, workerHost } from '../analysis/provenance';
import { resultFilesOf, type RunResult } from '../task-record';
import type { AnalysisSpec, InputFingerprint, StoredRecord, Task } from '../types';
import { fingerprintAtRun } from '../planning/fingerprint';
import { analysisCode } from '../aind/metadata';
import { keepResultList } from '../analysis/result-files';
import { runAnalysis } from '../analysis/runtime';
import { machineFacts, softwareFacts, workerUser } from '../analysis/software';
import { ensureWorkRoot } from '../analysis/work-root';
import { specCommandRefusal } from '../analysis/spec-command';
import { ErrorType, nonRetryable } from '../errors';
import { checkTaskIdentity } from '../identity';
import { s3ObjectStore } from '../storage/object-store';
import { createTaskCommits, type Written } from '../storage/task-commit';
import type { HeldLease, Leases } from '../storage/leases';
import { LEASE_TTL_MS } from '../storage/leases';
import type { TaskLocks } from '../storage/task-locks';
import type { RunMetrics } from '../workers/metrics';
import { pauseForTest } from '../storage/test-pause';
import { uploadTaskResults } from './storage';

export interface RunDeps {
  registry: AnalysisRegistry;
  registryDir: string;
  s3: S3Client;
  commandRoot: string;
  passEnv: string[];
  allowSpecCommands: boolean;
  /** Absent: podman. */
  containerRuntime?: ContainerRuntime;
  requireContainers?: boolean;
  workRoot: string;
  /** This worker's own task queue, where the upload of what it ran must go. */
  workerQueue: string;
  /** Where a run that commits writes its task's record, and the locks its job holds. */
  records: Collection<StoredRecord>;
  taskLocks: Pick<TaskLocks, 'claim' | 'release'>;
  /** Run slots of the analyses registered with `max_concurrent`. */
  leases: Leases;
  metrics?: RunMetrics;
}

/** How long a run step looks for a free slot before the job takes over the wait. */
const SLOT_WAIT_IN_STEP_MS = 15_000;

export const createRunActivities = (deps: RunDeps) => {
  const commits = createTaskCommits({
    records: deps.records,
    objects: s3ObjectStore(deps.s3),
    locks: deps.taskLocks,
  });
  return {
    /**
     * Runs one task's analysis into a fresh local folder and says which worker holds the results,
     * so the job can send the upload to that worker's queue. With `upload`, it uploads them itself
     * first, saving the job that step; an upload that fails is only logged (the analysis is never run
     * again for it), and the job's own upload step, retried as usual, takes over. With `commit` as
     * well, once uploaded it writes the task's record in the same way, and a failed write leaves it
     * to the job's commit step. A later attempt may find its task committed by an earlier one whose
     * answer was lost: it then runs nothing and reports the upload and the record done
     * (TaskCommits.beforeRun).
     */
    async runTask(input: {
      task: Task;
      dispatchId: string;
      upload?: boolean;
      commit?: { owner: string; force: boolean };
    }): Promise<RunResult> {
      const context = Context.current();
      const { task } = input;
      // Before anything runs for the task, git and `--version` included: the task is what its
      // fields say, and a command of its spec is one this worker runs.
      checkTaskIdentity(task);
      if (task.analysis.command?.length && !deps.allowSpecCommands)
        throw nonRetryable(ErrorType.SpecCommandRefused, specCommandRefusal(task.analysis.analysis_name));
      if (
        input.commit &&
        (await commits.beforeRun({
          task,
          dispatchId: input.dispatchId,
          owner: input.commit.owner,
          attempt: context.info.attempt,
        })) === 'committed'
      )
        return committedEarlier(deps.workerQueue);
      const name = task.analysis.analysis_name;
      await ensureWorkRoot(deps.workRoot);
      const workDir = await mkdtemp(join(deps.workRoot, `${task.hash.slice(0, 16)}-`));
      const startedAt = new Date().toISOString();
      const log = (message: string, fields?: Record<string, unknown>) =>
        context.log.info(message, { dispatch_id: input.dispatchId, task: task.hash, ...fields });
      const commitFromRun = async (run: RunResult, written?: Written): Promise<RunResult> => {
        if (!input.commit) return run;
        try {
          const committed = await commits.commit(
            { task, run, dispatchId: input.dispatchId, ...input.commit },
            written,
          );
          return { ...run, committed };
        } catch (err) {
          log('writing the record from the run step failed; the commit step takes over', {
            error: (err as Error).message,
          });
          return run;
        }
      };
      let lease: HeldLease | undefined;
      try {
        lease = await takeSlot(deps, name, context);
        // Known before the run: the analysis receives its own code description in its task.
        const spec = specAsRun(task.analysis, deps.registry);
        const codeDir = codeDirOf(spec, deps.registryDir, deps.commandRoot);
        const code = await codeProvenance(codeDir);
        const software = await softwareFacts({
          spec,
          provenance: code,
          codeDir,
          moduleFile: deps.registry.file?.(task.analysis.analysis_name),
          askVersion: !task.analysis.command?.length,
          container: task.analysis.command?.length
            ? undefined
            : deps.registry.command?.(task.analysis.analysis_name)?.container,
          containerRuntime: deps.containerRuntime,
        });
        const fingerprints = await inputFingerprints(deps.s3, task, log);
        const started = Date.now();
        deps.metrics?.started(name);
        const result = await runAnalysis({
          task,
          registry: deps.registry,
          workDir,
          s3: deps.s3,
          commandRoot: deps.commandRoot,
          passEnv: deps.passEnv,
          allowSpecCommands: deps.allowSpecCommands,
          containerRuntime: deps.containerRuntime,
          requireContainers: deps.requireContainers,
          heartbeat: (details?: unknown) => context.heartbeat(details),
          signal: context.cancellationSignal,
          log,
          code: analysisCode(task, software, code.commit),
        }).then(
          (done) => {
            deps.metrics?.finished(name, 'succeeded', (Date.now() - started) / 1000);
            return done;
          },
          (err: unknown) => {
            deps.metrics?.finished(name, 'failed', (Date.now() - started) / 1000);
            throw err;
          },
        );
        await lease?.release();
        const finished = Date.now();
        // The list stays in the run's folder: a zarr store's thousands of names would otherwise
        // travel in the job's history, in this result and in the inputs of the steps after it.
        const resultFiles = await keepResultList(workDir, result.files);
        const run: RunResult = {
          workerQueue: deps.workerQueue,
          workDir,
          outputs: result.outputs,
          result_files: resultFiles,
          code,
          worker_host: workerHost(),
          started_at: startedAt,
          finished_at: new Date(finished).toISOString(),
          software,
          machine: machineFacts(),
          resources: {
            wall_time_s: (finished - started) / 1000,
            ...result.usage,
            output_bytes: await bytesOf(result.resultsDir, result.files),
          },
          ...(workerUser() ? { worker_user: workerUser() } : {}),
          ...(fingerprints ? { input_fingerprints: fingerprints } : {}),
        };
        if (!input.upload) return run;
        try {
          const { written, ...uploaded } = await uploadTaskResults(
            deps.s3,
            deps.records,
            { task, run, dispatchId: input.dispatchId },
            {
              signal: context.cancellationSignal,
              heartbeat: (details) => context.heartbeat(details),
              retry: context.info.attempt > 1,
            },
          );
          deps.metrics?.uploaded(name, uploaded.bytes);
          await pauseForTest('after-upload', task.hash);
          return await commitFromRun({ ...run, uploaded }, written);
        } catch (err) {
          // A refusal (a record the database would not take, an unsafe result) is the same in
          // the upload step: the task fails now, with nothing uploaded.
          if (context.cancellationSignal.aborted || isNonRetryable(err)) throw err;
          log('uploading from the run step failed; the upload step takes over', {
            error: (err as Error).message,
          });
          return run;
        }
      } catch (err) {
        await lease?.release();
        await rm(workDir, { recursive: true, force: true });
        throw err;
      }
    },
  };
};

/**
 * Takes a run slot when the worker's registry caps the analysis (`max_concurrent`), renewed
 * while the run lasts; undefined when it is not capped. With every slot held, the step looks
 * again every second or so, heartbeating, for a short while (a slot given back is soon taken
 * again), then fails with AnalysisAtCapacity, the attempts it used in its details, and the job
 * waits on a timer before asking again (job.ts). Waiting here for as long as it takes would hold
 * one of the worker's activity slots all along and spend the analysis's `timeout` on it, so a
 * long queue behind a small cap would time tasks out before they ran; failing into the
 * activity's own retry would spend `max_attempts`. A timer in the job costs neither, and
 * survives any worker's death.
 */
async function takeSlot(deps: RunDeps, name: string, context: Context): Promise<HeldLease | undefined> {
  const cap = deps.registry.get(name)?.max_concurrent ?? deps.registry.command?.(name)?.max_concurrent;
  if (cap === undefined) return undefined;
  const { info } = context;
  const holder = {
    workflow_id: info.workflowExecution?.workflowId ?? '',
    run_id: info.workflowExecution?.runId ?? '',
    activity_id: info.activityId,
    worker: deps.workerQueue,
  };
  const giveUp = Date.now() + Math.min(SLOT_WAIT_IN_STEP_MS, info.startToCloseTimeoutMs / 4);
  let lease = await deps.leases.acquire(name, cap, holder);
  while (!lease && Date.now() < giveUp) {
    context.heartbeat();
    await context.sleep(500 + Math.random() * 1_000);
    lease = await deps.leases.acquire(name, cap, holder);
  }
  if (!lease) {
    deps.metrics?.atCapacity(name);
    throw ApplicationFailure.create({
      type: ErrorType.AnalysisAtCapacity,
      message: `all ${cap} run slots of analysis "${name}" (max_concurrent) are in use`,
      nonRetryable: true,
      details: [{ attempts_used: info.attempt - 1 }],
    });
  }
  deps.metrics?.leaseTaken(name);
  // A worker that dies stops renewing: the slot lapses and another run takes it.
  const renewal = setInterval(() => {
    lease.renew().then(
      (kept) => {
        if (!kept) context.log.warn('the run slot lapsed and was taken by another run', { slot: lease.slot });
      },
      (err: unknown) => context.log.warn('renewing the run slot failed', { error: (err as Error).message }),
    );
  }, LEASE_TTL_MS / 3);
  let released = false;
  return {
    slot: lease.slot,
    renew: () => lease.renew(),
    async release() {
      if (released) return;
      released = true;
      clearInterval(renewal);
      deps.metrics?.leaseGiven(name);
      // A slot left behind lapses by itself: the run's outcome matters more than this write.
      await lease
        .release()
        .catch((err: unknown) =>
          context.log.warn('giving back the run slot failed', { error: (err as Error).message }),
        );
    },
  };
}

/** What the run's result files weigh, for `usage`: the bytes its upload will write. */
async function bytesOf(resultsDir: string, files: string[]): Promise<number> {
  let bytes = 0;
  for (const file of files) bytes += (await stat(join(resultsDir, file)).catch(() => undefined))?.size ?? 0;
  return bytes;
}

function isNonRetryable(err: unknown): boolean {
  return err instanceof ApplicationFailure && err.nonRetryable === true;
}

/**
 * What a run step reports when an earlier attempt of it ran the task to its record: nothing ran
 * now, so there are no files or facts, only that the upload and the record are done.
 */
function committedEarlier(workerQueue: string): RunResult {
  const now = new Date().toISOString();
  return {
    workerQueue,
    workDir: '',
    outputs: {},
    result_files: resultFilesOf([]),
    code: {},
    worker_host: workerHost(),
    started_at: now,
    finished_at: now,
    uploaded: { objects: 0, bytes: 0 },
    committed: 'existed',
  };
}

/**
 * The task's input fingerprints when its plan left them to the run (folder inputs): taken before
 * the analysis reads the inputs. A listing that fails costs the record its fingerprints, never the
 * run: without them the task counts as unchanged, as records made before fingerprints were kept.
 */
async function inputFingerprints(
  s3: S3Client,
  task: Task,
  log: (message: string, fields?: Record<string, unknown>) => void,
): Promise<InputFingerprint[] | undefined> {
  if (task.input_fingerprints !== undefined) return undefined;
  try {
    return await fingerprintAtRun(s3, task);
  } catch (err) {
    log('the inputs could not be listed for their fingerprints; the record keeps none', {
      error: (err as Error).message,
    });
    return undefined;
  }
}

/** The spec with the command this worker's registry holds for it, for the code's provenance. */
function specAsRun(spec: AnalysisSpec, registry: AnalysisRegistry): AnalysisSpec {
  if (spec.command?.length) return spec;
  const registered = registry.command?.(spec.analysis_name);
  return registered ? { ...spec, command: registered.command } : spec;
}
