import { mkdtemp, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Collection } from 'mongodb';
import type { AnalysisRegistry } from '../analysis/definition';
import { codeDirOf, codeProvenance, workerHost } from '../analysis/provenance';
import type { RunResult } from '../task-record';
import type { AnalysisSpec, InputFingerprint, StoredRecord, Task } from '../types';
import { fingerprintAtRun } from '../planning/fingerprint';
import { analysisCode } from '../aind/metadata';
import { runAnalysis } from '../analysis/runtime';
import { machineFacts, softwareFacts, workerUser } from '../analysis/software';
import { ensureWorkRoot } from '../analysis/work-root';
import { specCommandRefusal } from '../analysis/spec-command';
import { ErrorType, nonRetryable } from '../errors';
import { checkTaskIdentity } from '../identity';
import { s3ObjectStore } from '../storage/object-store';
import { createTaskCommits } from '../storage/task-commit';
import type { TaskLocks } from '../storage/task-locks';
import { pauseForTest } from '../storage/test-pause';
import { uploadTaskResults } from './storage';

export interface RunDeps {
  registry: AnalysisRegistry;
  registryDir: string;
  s3: S3Client;
  commandRoot: string;
  passEnv: string[];
  allowSpecCommands: boolean;
  workRoot: string;
  /** This worker's own task queue, where the upload of what it ran must go. */
  workerQueue: string;
  /** Where a run that commits writes its task's record, and the locks its job holds. */
  records: Collection<StoredRecord>;
  taskLocks: Pick<TaskLocks, 'claim' | 'release'>;
}

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
      await ensureWorkRoot(deps.workRoot);
      const workDir = await mkdtemp(join(deps.workRoot, `${task.hash.slice(0, 16)}-`));
      const startedAt = new Date().toISOString();
      const log = (message: string, fields?: Record<string, unknown>) =>
        context.log.info(message, { dispatch_id: input.dispatchId, task: task.hash, ...fields });
      const commitFromRun = async (run: RunResult): Promise<RunResult> => {
        if (!input.commit) return run;
        try {
          const committed = await commits.commit({
            task,
            run,
            dispatchId: input.dispatchId,
            ...input.commit,
          });
          return { ...run, committed };
        } catch (err) {
          log('writing the record from the run step failed; the commit step takes over', {
            error: (err as Error).message,
          });
          return run;
        }
      };
      try {
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
        });
        const fingerprints = await inputFingerprints(deps.s3, task, log);
        const started = Date.now();
        const result = await runAnalysis({
          task,
          registry: deps.registry,
          workDir,
          s3: deps.s3,
          commandRoot: deps.commandRoot,
          passEnv: deps.passEnv,
          allowSpecCommands: deps.allowSpecCommands,
          heartbeat: (details?: unknown) => context.heartbeat(details),
          signal: context.cancellationSignal,
          log,
          code: analysisCode(task, software, code.commit),
        });
        const finished = Date.now();
        const run: RunResult = {
          workerQueue: deps.workerQueue,
          workDir,
          outputs: result.outputs,
          files: result.files,
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
          const uploaded = await uploadTaskResults(
            deps.s3,
            deps.records,
            { task, run, dispatchId: input.dispatchId },
            {
              signal: context.cancellationSignal,
              heartbeat: (details) => context.heartbeat(details),
            },
          );
          await pauseForTest('after-upload', task.hash);
          return await commitFromRun({ ...run, uploaded });
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
        await rm(workDir, { recursive: true, force: true });
        throw err;
      }
    },
  };
};

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
    files: [],
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
