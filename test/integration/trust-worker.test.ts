import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Collection } from 'mongodb';
import { createActivities } from '../../src/activities';
import { createRecordActivities, workflowTaskLocks } from '../../src/activities/records';
import { createRunActivities } from '../../src/activities/run';
import { loadRegistry } from '../../src/analysis/registry';
import { keepResultList } from '../../src/analysis/result-files';
import { ErrorType } from '../../src/errors';
import { stores } from '../../src/storage/database';
import { createLeases } from '../../src/storage/leases';
import { idLookups } from '../../src/storage/id-lookups';
import { s3ObjectStore } from '../../src/storage/object-store';
import { createPlanStore } from '../../src/storage/plan-store';
import { createRequestStore } from '../../src/storage/request-store';
import { folderOf } from '../../src/storage/task-commit';
import { METADATA_FILE, type RunResult } from '../../src/task-record';
import type { AnalysisSpec, DispatchRequest, StoredRecord, Task } from '../../src/types';
import { runCli } from '../helpers/cli';
import { writeSpec } from '../helpers/data';
import { makeTask } from '../fixtures/tasks';
import { FIXTURE_ANALYSES, listKeys, ROOT, testStack, type TestStack } from '../helpers/stack';

/**
 * What a worker trusts and what it checks, against the real database, S3 server and Temporal: a
 * task is checked against itself before anything is written or removed, a rerun replaces a record
 * only once its own objects are whole, nothing runs for a spec command a worker refuses, the work
 * folder is the worker's own, and a task committed by another dispatch is not run again.
 */
describe('what a worker trusts', () => {
  let stack: TestStack;
  let registry: Awaited<ReturnType<typeof loadRegistry>>;
  let scratch: string;
  const env = new MockActivityEnvironment();

  before(async () => {
    stack = await testStack('trustworker');
    registry = await loadRegistry(FIXTURE_ANALYSES);
    scratch = mkdtempSync(join(tmpdir(), 'trust-worker-'));
  });
  after(() => stack.close());

  function activitiesWith(overrides: { allowSpecCommands?: boolean; workRoot?: string } = {}) {
    return createActivities({
      stores: stores(stack.mongo, stack.config),
      s3: stack.s3,
      registry,
      registryDir: FIXTURE_ANALYSES,
      commandRoot: ROOT,
      passEnv: [],
      allowSpecCommands: overrides.allowSpecCommands ?? false,
      workRoot: overrides.workRoot ?? join(stack.config.ANALYSIS_WORK_DIR!, 'runs'),
      workerQueue: 'this-worker',
      temporal: () => stack.client,
    });
  }
  const records = () =>
    stack.mongo.db(stack.config.DOCDB_DATABASE).collection<StoredRecord>(stack.config.DOCDB_COLLECTION);
  const locks = () =>
    stack.mongo.db(stack.config.DOCDB_DATABASE).collection(`${stack.config.DOCDB_COLLECTION}_locks`);

  const taskOf = (name: string, analysis: Partial<AnalysisSpec> = {}) =>
    makeTask(
      { analysis_name: 'Noop', s3_output_bucket: stack.bucket, ...analysis },
      { parameters: { name } },
    );

  /** A command given in the spec: `sh -c script`, with the results folder in its environment. */
  const shell = (script: string) => ['sh', '-c', script];

  async function uploadedCopy(record: StoredRecord): Promise<unknown> {
    const { bucket, prefix } = folderOf(record.location);
    const object = await stack.s3.send(new GetObjectCommand({ Bucket: bucket, Key: prefix + METADATA_FILE }));
    return JSON.parse(await object.Body!.transformToString());
  }

  /** The record, its copy in S3 equal to it, and every object it names there. */
  async function checkWhole(hash: string): Promise<StoredRecord> {
    const record = await records().findOne({ _id: hash });
    assert.ok(record, `a record of ${hash}`);
    assert.deepEqual(await uploadedCopy(record), record, 'metadata.nd.json is the record');
    const { prefix } = folderOf(record.location);
    const keys = await listKeys(stack.s3, stack.bucket, prefix);
    for (const file of record.files ?? []) assert.ok(keys.includes(prefix + file), `${file} is there`);
    return record;
  }

  function isFailure(type: string, pattern?: RegExp) {
    return (err: unknown) => {
      assert.ok(err instanceof ApplicationFailure, String(err));
      assert.equal(err.type, type);
      assert.equal(err.nonRetryable, true);
      if (pattern) assert.match(err.message, pattern);
      return true;
    };
  }

  test('a task whose stored hash or location is not its own is refused by every step, and nothing is removed or written', async () => {
    const activities = activitiesWith();
    // What another user's files look like at the bucket's root.
    await stack.s3.send(
      new PutObjectCommand({ Bucket: stack.bucket, Key: 'keep/precious.txt', Body: 'mine' }),
    );
    const genuine = taskOf('edited');
    const edited: Task[] = [
      { ...genuine, location: `s3://${stack.bucket}` },
      { ...genuine, location: `s3://${stack.bucket}/` },
      { ...genuine, hash: 'f'.repeat(64), location: `s3://${stack.bucket}/${'f'.repeat(64)}` },
      { ...genuine, analysis: { ...genuine.analysis, s3_output_bucket: 'another-bucket' } },
    ];
    const workDir = join(scratch, 'edited');
    mkdirSync(join(workDir, 'results'), { recursive: true });
    writeFileSync(join(workDir, 'results', 'noop.txt'), 'ok\n');
    const run: RunResult = {
      workerQueue: 'this-worker',
      workDir,
      outputs: {},
      result_files: await keepResultList(workDir, ['noop.txt']),
      code: {},
      worker_host: 'h',
      started_at: '2026-01-01T00:00:00.000Z',
      finished_at: '2026-01-01T00:00:01.000Z',
    };
    for (const task of edited) {
      const mismatch = isFailure(ErrorType.TaskIdentityMismatch);
      await assert.rejects(env.run(activities.uploadResults, { task, run, dispatchId: 'd' }), mismatch);
      await assert.rejects(
        env.run(activities.commitTask, { task, run, dispatchId: 'd', owner: 'o', force: true }),
        mismatch,
      );
      await assert.rejects(
        env.run(activities.runTask, {
          task,
          dispatchId: 'd',
          upload: true,
          commit: { owner: 'o', force: true },
        }),
        mismatch,
      );
    }
    assert.deepEqual(await listKeys(stack.s3, stack.bucket), ['keep/precious.txt']);
    assert.equal(await records().countDocuments({}), 0);
    assert.ok(existsSync(join(workDir, 'results', 'noop.txt')), 'the local results are left as they were');
  });

  test('a request edited in the database is checked on the worker as the CLI checks it', async () => {
    const activities = activitiesWith();
    const requests = createRequestStore(stack.mongo.db(stack.config.DOCDB_DATABASE));
    const request: DispatchRequest = {
      query: { $where: 'sleep(1000) || true' },
      asset_id_field: '_id',
      split_files: true,
      group_by: [],
      specs: [
        {
          analysis_name: 'Noop',
          analysis_version: '1',
          analysis_libraries: [],
          analysis_parameters: {},
          s3_output_bucket: stack.bucket,
        },
      ],
      fixed_parameters: {},
      distributed_parameters: [],
      num_parallel_workers: 1,
      tasks_per_job: 1,
      dry_run: false,
      force: false,
    };
    const edits: Array<[Partial<DispatchRequest>, RegExp]> = [
      [{}, /\$where at \$where: server-side JavaScript operators/],
      [{ query: { name: { $in: [{ $function: {} }] } } }, /\$function at name\.\$in\[0\]\.\$function/],
      [{ query: {}, group_by: ['$where'] }, /group_by: "\$where" is not a field path/],
      [{ query: {}, fixed_parameters: { 'a.b': 1 } }, /the key "a\.b"/],
    ];
    for (const [index, [edit, pattern]] of edits.entries()) {
      await requests.save(`edited-${index}`, { ...request, ...edit });
      await assert.rejects(
        env.run(activities.planDispatch, { planId: `edited-${index}`, requestId: `edited-${index}` }),
        isFailure(ErrorType.InvalidInput, pattern),
      );
    }
  });

  test('a forced rerun replaces the record in one write, beside the earlier objects, which go only then', async () => {
    const activities = activitiesWith();
    const task = taskOf('forced');
    const first = await env.run(activities.runTask, {
      task,
      dispatchId: 'd1',
      upload: true,
      commit: { owner: 'job-1', force: false },
    });
    assert.equal((first as RunResult).committed, 'written');
    const earlier = await checkWhole(task.hash);
    assert.equal(earlier.location, task.location);

    const second = (await env.run(activities.runTask, {
      task,
      dispatchId: 'd2',
      upload: true,
      commit: { owner: 'job-2', force: true },
    })) as RunResult;
    assert.equal(second.committed, 'written');
    const replaced = await checkWhole(task.hash);
    assert.equal(replaced.dispatch_id, 'd2');
    assert.match(replaced.location, new RegExp(`^${task.location}/run-[0-9a-f]{16}$`));
    const { prefix } = folderOf(replaced.location);
    assert.deepEqual(await listKeys(stack.s3, stack.bucket, `${task.hash}/`), [
      `${prefix}${METADATA_FILE}`,
      `${prefix}noop.txt`,
    ]);
  });

  test('a rerun whose record is refused fails at once, on the run step and the commit step, leaving the earlier record whole', async () => {
    const activities = activitiesWith({ allowSpecCommands: true });
    const good = taskOf('refused', { command: shell('echo ok > "$ANALYSIS_RESULTS_DIR/ok.txt"') });
    await env.run(activities.runTask, {
      task: good,
      dispatchId: 'd1',
      upload: true,
      commit: { owner: 'job-1', force: false },
    });
    const earlier = await checkWhole(good.hash);
    const keysBefore = await listKeys(stack.s3, stack.bucket, `${good.hash}/`);

    // The same task (a command is not part of its identity) whose run names an output "a.b".
    const dotted = {
      ...good,
      analysis: {
        ...good.analysis,
        command: shell(`echo '{"a.b": 1}' > "$ANALYSIS_RESULTS_DIR/outputs.json"`),
      },
    };
    const refused = isFailure(
      ErrorType.InvalidOutputs,
      /"a\.b" at processing\.data_processes\[0\]\.output_parameters/,
    );
    await assert.rejects(
      env.run(activities.runTask, {
        task: dotted,
        dispatchId: 'd2',
        upload: true,
        commit: { owner: 'job-2', force: true },
      }),
      refused,
    );
    // The commit step, given such a run (a job whose run step could not commit), refuses it too.
    const run = (await env.run(activities.runTask, { task: dotted, dispatchId: 'd3' })) as RunResult;
    await assert.rejects(
      env.run(activities.commitTask, { task: dotted, run, dispatchId: 'd3', owner: 'job-3', force: true }),
      refused,
    );
    await assert.rejects(env.run(activities.uploadResults, { task: dotted, run, dispatchId: 'd3' }), refused);
    assert.deepEqual(await checkWhole(good.hash), earlier);
    assert.deepEqual(await listKeys(stack.s3, stack.bucket, `${good.hash}/`), keysBefore);
  });

  test('a rerun stopped half-way or before its record leaves the earlier record and its objects; its commit step switches later', async () => {
    const activities = activitiesWith();
    const task = taskOf('interrupted');
    await env.run(activities.runTask, {
      task,
      dispatchId: 'd1',
      upload: true,
      commit: { owner: 'job-1', force: false },
    });
    const earlier = await checkWhole(task.hash);
    const earlierKeys = await listKeys(stack.s3, stack.bucket, `${task.hash}/`);

    // A rerun whose upload stops half-way (here a file gone from under it) takes its partial
    // copy away again.
    const workDir = join(scratch, 'half-way');
    mkdirSync(join(workDir, 'results'), { recursive: true });
    writeFileSync(join(workDir, 'results', 'a.txt'), 'a\n');
    const halfWay: RunResult = {
      workerQueue: 'this-worker',
      workDir,
      outputs: {},
      result_files: await keepResultList(workDir, ['a.txt', 'gone.txt']),
      code: {},
      worker_host: 'h',
      started_at: '2026-01-01T00:00:00.000Z',
      finished_at: '2026-01-01T00:00:01.000Z',
    };
    await assert.rejects(
      env.run(activities.uploadResults, { task, run: halfWay, dispatchId: 'd9' }),
      /ENOENT/,
    );
    assert.deepEqual(await checkWhole(task.hash), earlier);
    assert.deepEqual(await listKeys(stack.s3, stack.bucket, `${task.hash}/`), earlierKeys);

    // The rerun uploads, then its worker loses the database before the record is written.
    const away = async () => {
      throw new Error('the database is away');
    };
    const cut = createRunActivities({
      registry,
      registryDir: FIXTURE_ANALYSES,
      s3: stack.s3,
      commandRoot: ROOT,
      passEnv: [],
      allowSpecCommands: false,
      workRoot: join(stack.config.ANALYSIS_WORK_DIR!, 'runs'),
      workerQueue: 'this-worker',
      records: {
        findOne: (...args: Parameters<Collection<StoredRecord>['findOne']>) => records().findOne(...args),
        insertOne: away,
        replaceOne: away,
      } as unknown as Collection<StoredRecord>,
      taskLocks: { claim: async () => true, release: async () => {} },
      leases: createLeases({ leases: stores(stack.mongo, stack.config).leases, isRunning: async () => true }),
    });
    const run = (await env.run(cut.runTask, {
      task,
      dispatchId: 'd2',
      upload: true,
      commit: { owner: 'job-2', force: true },
    })) as RunResult;
    assert.ok(run.uploaded, 'uploaded');
    assert.equal(run.committed, undefined, 'not committed');
    assert.deepEqual(await checkWhole(task.hash), earlier, 'the earlier record and its copy stand');
    const keys = await listKeys(stack.s3, stack.bucket, `${task.hash}/`);
    for (const key of earlierKeys) assert.ok(keys.includes(key), `${key} is still there`);

    // The job's commit step, once the database is back.
    assert.equal(
      await env.run(activities.commitTask, { task, run, dispatchId: 'd2', owner: 'job-2', force: true }),
      'written',
    );
    const replaced = await checkWhole(task.hash);
    assert.equal(replaced.dispatch_id, 'd2');
    const { prefix } = folderOf(replaced.location);
    assert.deepEqual(await listKeys(stack.s3, stack.bucket, `${task.hash}/`), [
      `${prefix}${METADATA_FILE}`,
      `${prefix}noop.txt`,
    ]);
  });

  test('a spec command refused by the worker runs nothing for its task: no git, no --version', async () => {
    // A checkout whose config runs a program on `git status`, and a program named like an
    // interpreter, so that a worker asking either would leave a line in the marker file.
    const repo = join(scratch, 'hooked');
    const marker = join(scratch, 'marker.txt');
    mkdirSync(repo);
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: repo });
    git('init', '-q');
    writeFileSync(join(repo, 'monitor.sh'), `#!/bin/sh\necho fsmonitor >> ${marker}\n`);
    writeFileSync(
      join(repo, 'node'),
      `#!/bin/sh\necho "ran $*" >> ${marker}\necho ok > "$ANALYSIS_RESULTS_DIR/ok.txt"\n`,
    );
    chmodSync(join(repo, 'monitor.sh'), 0o755);
    chmodSync(join(repo, 'node'), 0o755);
    git('add', '.');
    git('commit', '-q', '-m', 'hooked');
    git('config', 'core.fsmonitor', join(repo, 'monitor.sh'));
    git('config', 'core.hooksPath', repo);
    const task = taskOf('hooked', { command: [join(repo, 'node'), 'analysis.js'] });
    const markerText = () => (existsSync(marker) ? readFileSync(marker, 'utf8') : '');

    await assert.rejects(
      env.run(activitiesWith().runTask, {
        task,
        dispatchId: 'd',
        upload: true,
        commit: { owner: 'o', force: false },
      }),
      isFailure(ErrorType.SpecCommandRefused),
    );
    assert.equal(markerText(), '', 'nothing ran');

    // Where spec commands are allowed, the program runs as the analysis, and only so.
    const run = (await env.run(activitiesWith({ allowSpecCommands: true }).runTask, {
      task,
      dispatchId: 'd',
    })) as RunResult;
    assert.equal(markerText(), 'ran analysis.js\n');
    assert.ok(run.code.commit, 'git still reads the commit');
    assert.equal(run.software?.language_version, undefined, 'the program was not asked its version');
  });

  test('the work folder is made private, and one that is a link or others may write is refused', async () => {
    const fresh = join(scratch, 'work-fresh', 'root');
    await env.run(activitiesWith({ workRoot: fresh }).runTask, {
      task: taskOf('fresh-root'),
      dispatchId: 'd',
    });
    assert.equal(statSync(fresh).mode & 0o777, 0o700);

    const elsewhere = join(scratch, 'elsewhere');
    mkdirSync(elsewhere);
    const linked = join(scratch, 'work-linked');
    symlinkSync(elsewhere, linked);
    const open = join(scratch, 'work-open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    for (const workRoot of [linked, open]) {
      await assert.rejects(
        env.run(activitiesWith({ workRoot }).runTask, { task: taskOf('bad-root'), dispatchId: 'd' }),
        isFailure(ErrorType.UnsafeWorkRoot),
      );
    }
    assert.deepEqual(execFileSync('ls', ['-A', elsewhere], { encoding: 'utf8' }), '', 'nothing made there');
  });

  test('an upload opens each result without following a link put there after the listing', async () => {
    const activities = activitiesWith();
    const secret = join(scratch, 'secret.txt');
    writeFileSync(secret, 'the worker’s own\n');
    const prepare = async (name: string) => {
      const task = taskOf(name);
      const workDir = join(scratch, name);
      mkdirSync(join(workDir, 'results'), { recursive: true });
      writeFileSync(join(workDir, 'results', 'fine.txt'), 'ok\n');
      const run: RunResult = {
        workerQueue: 'this-worker',
        workDir,
        outputs: {},
        result_files: await keepResultList(workDir, ['fine.txt', 'swapped.txt']),
        code: {},
        worker_host: 'h',
        started_at: '2026-01-01T00:00:00.000Z',
        finished_at: '2026-01-01T00:00:01.000Z',
      };
      return { task, run, workDir };
    };
    // A file listed as regular, swapped for a link to a file of the worker's.
    const swapped = await prepare('swapped-file');
    symlinkSync(secret, join(swapped.workDir, 'results', 'swapped.txt'));
    await assert.rejects(
      env.run(activities.uploadResults, { task: swapped.task, run: swapped.run, dispatchId: 'd' }),
      isFailure(ErrorType.UnsafeResults),
    );
    // The whole results folder swapped for a link to a folder of the worker's.
    const folder = await prepare('swapped-folder');
    const outside = join(scratch, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'fine.txt'), 'not a result\n');
    writeFileSync(join(outside, 'swapped.txt'), 'not a result\n');
    execFileSync('rm', ['-r', join(folder.workDir, 'results')]);
    symlinkSync(outside, join(folder.workDir, 'results'));
    await assert.rejects(
      env.run(activities.uploadResults, { task: folder.task, run: folder.run, dispatchId: 'd' }),
      isFailure(ErrorType.UnsafeResults),
    );
    // A folder inside the results swapped for a link to a folder of the worker's: the file's own
    // name is no link, the descriptor's path tells.
    const inner = await prepare('swapped-subfolder');
    mkdirSync(join(inner.workDir, 'results', 'sub'));
    writeFileSync(join(inner.workDir, 'results', 'sub', 'swapped.txt'), 'listed\n');
    const innerRun = {
      ...inner.run,
      result_files: await keepResultList(inner.workDir, ['fine.txt', 'sub/swapped.txt']),
    };
    execFileSync('rm', ['-r', join(inner.workDir, 'results', 'sub')]);
    symlinkSync(outside, join(inner.workDir, 'results', 'sub'));
    await assert.rejects(
      env.run(activities.uploadResults, { task: inner.task, run: innerRun, dispatchId: 'd' }),
      isFailure(ErrorType.UnsafeResults, /sub\/swapped\.txt was opened outside the results folder/),
    );
    for (const { task } of [swapped, folder, inner]) {
      const keys = await listKeys(stack.s3, stack.bucket, `${task.hash}/`);
      assert.ok(!keys.some((key) => key.endsWith('swapped.txt')), `${keys.join(', ')}`);
      assert.ok(
        !keys.includes(`${task.hash}/${METADATA_FILE}`),
        'no copy of a record: the upload did not finish',
      );
    }
  });

  test('an upload sends a result listed as a link inside the results folder as the file it names', async () => {
    const task = taskOf('alias');
    const workDir = join(scratch, 'alias');
    mkdirSync(join(workDir, 'results'), { recursive: true });
    writeFileSync(join(workDir, 'results', 'fine.txt'), 'ok\n');
    symlinkSync('fine.txt', join(workDir, 'results', 'alias.txt'));
    const run: RunResult = {
      workerQueue: 'this-worker',
      workDir,
      outputs: {},
      result_files: await keepResultList(workDir, ['alias.txt', 'fine.txt']),
      code: {},
      worker_host: 'h',
      started_at: '2026-01-01T00:00:00.000Z',
      finished_at: '2026-01-01T00:00:01.000Z',
    };
    await env.run(activitiesWith().uploadResults, { task, run, dispatchId: 'd' });
    const alias = await stack.s3.send(
      new GetObjectCommand({ Bucket: stack.bucket, Key: `${task.hash}/alias.txt` }),
    );
    assert.equal(await alias.Body?.transformToString(), 'ok\n');
  });

  test('a task another dispatch commits while a job claims it is not run again over its files', async () => {
    const task = taskOf('claimed');
    const other = await stack.client.workflow.start('nobodyRunsThis', {
      taskQueue: `${stack.name}-nobody`,
      workflowId: `${stack.name}-other-dispatch`,
    });
    try {
      // The other dispatch's job holds the task's lock, and commits and gives it back just after
      // this job read the records.
      await locks().insertOne({ _id: task.hash, owner: other.workflowId, since: new Date() } as never);
      const lookups = idLookups(stack.mongo.db(stack.config.DOCDB_DATABASE));
      const claim = createRecordActivities({
        records: records(),
        taskLocks: workflowTaskLocks(locks() as never, () => stack.client),
        codeCommit: async () => undefined,
        plans: createPlanStore(stack.mongo.db(stack.config.DOCDB_DATABASE)),
        objects: s3ObjectStore(stack.s3),
        async findByIds(collection, ids, projection) {
          const found = await lookups(collection, ids, projection);
          await records().insertOne({
            _id: task.hash,
            dispatch_id: 'other',
            location: task.location,
          } as never);
          await locks().deleteOne({ _id: task.hash } as never);
          return found;
        },
      });
      const [status] = await claim.claimTasks({ tasks: [task], owner: 'job-1', force: false, dryRun: false });
      assert.notEqual(status, 'run');
      assert.equal(await locks().countDocuments({ owner: 'job-1' } as never), 0, 'no lock kept');
    } finally {
      await other.terminate('test over');
    }
  });

  test('a forced dispatch through the workflows leaves one record, its copy and its objects, beside none of the earlier', async () => {
    await stack.startWorker({ ANALYSIS_MODULES_DIR: FIXTURE_ANALYSES });
    const assets = stack.mongo.db(stack.config.ASSETS_DATABASE).collection(stack.config.ASSETS_COLLECTION);
    await assets.insertOne({ _id: 'a1' as never, name: 'a1', location: `s3://${stack.bucket}/data/a1` });
    await stack.s3.send(new PutObjectCommand({ Bucket: stack.bucket, Key: 'data/a1/x.csv', Body: 'x' }));
    const spec = writeSpec(scratch, [{ analysis_name: 'Noop', analysis_version: 'forced-e2e' }], 'e2e.json');
    const dispatch = async (...args: string[]) => {
      const result = await runCli(
        ['dispatch', '--analysis_spec', spec, '--query', '{"name": "a1"}', '--wait', ...args],
        { ...stack.env, ANALYSIS_MODULES_DIR: FIXTURE_ANALYSES },
      );
      assert.equal(result.code, 0, result.stderr + result.stdout);
    };
    await dispatch();
    const [first] = await records().find({ analysis_version: 'forced-e2e' }).toArray();
    assert.ok(first);
    await checkWhole(first._id);
    await dispatch('--force');
    const replaced = await checkWhole(first._id);
    assert.notEqual(replaced.dispatch_id, first.dispatch_id);
    assert.notEqual(replaced.location, first.location, 'the rerun wrote beside the earlier objects');
    const { prefix } = folderOf(replaced.location);
    assert.deepEqual(await listKeys(stack.s3, stack.bucket, `${first._id}/`), [
      `${prefix}${METADATA_FILE}`,
      `${prefix}noop.txt`,
    ]);
  });
});
