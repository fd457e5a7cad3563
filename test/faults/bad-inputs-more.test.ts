import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { BSON } from 'mongodb';
import { runCli } from '../helpers/cli';
import { seedAssets, writeSpec } from '../helpers/data';
import { listKeys } from '../helpers/stack';
import { FAULTS_OUTPUT } from './helpers/figures';
import { activityOutcomes, jobWorkflowIds } from './helpers/history';
import { faultSetup, type FaultSetup } from './helpers/setup';
import { spawnWorkerProcess } from './helpers/workers';

/** Nothing listens on port 1 of the loopback interface: a connection is refused at once. */
const CLOSED = '127.0.0.1:1';
/** "Within seconds": generous for a loaded 2-core machine, far below any retry loop's minutes. */
const PROMPT_MS = 20_000;

/**
 * Bad inputs that test/integration/bad-inputs.test.ts does not cover: each gives a clear message
 * and exit 2, changes no collection and writes nothing to the bucket; those the CLI refuses start
 * no workflow, those planning refuses start no job.
 */
describe('bad input, more', () => {
  let setup: FaultSetup;
  let spec: string;
  let objectsBefore: string[];

  before(async () => {
    setup = await faultSetup('badmore');
    await seedAssets(setup.stack, { count: 2 });
    await setup.stack.mongo
      .db(setup.stack.config.ASSETS_DATABASE)
      .collection(setup.stack.config.ASSETS_COLLECTION)
      .insertMany([
        { _id: 'local_0' as never, name: 'local_0', location: 'file:///data/local_0' },
        { _id: 'local_1' as never, name: 'local_1', location: 'https://example.org/local_1' },
        { _id: 'local_2' as never, name: 'local_2', location: '/data/local_2' },
      ]);
    spec = writeSpec(setup.dir, [{ analysis_name: 'Noop', analysis_version: '1' }]);
    objectsBefore = await listKeys(setup.stack.s3, setup.stack.bucket);
    await setup.workers.start();
  });
  after(async () => setup?.close());

  /** Every document of every collection of the test's databases, by collection; empty ones left out. */
  async function databaseContents(): Promise<Record<string, string[]>> {
    const contents: Record<string, string[]> = {};
    for (const name of [setup.stack.config.ASSETS_DATABASE, setup.stack.config.DOCDB_DATABASE]) {
      const db = setup.stack.mongo.db(name);
      for (const { name: collection } of await db.listCollections({}, { nameOnly: true }).toArray()) {
        const docs = await db.collection(collection).find().toArray();
        if (docs.length)
          contents[`${name}.${collection}`] = docs.map((doc) => BSON.EJSON.stringify(doc)).sort();
      }
    }
    return contents;
  }

  /** The workflows on the test's own task queue (dispatches and their jobs), as visibility lists them. */
  async function workflowsOnQueue(): Promise<Array<[string, string, string]>> {
    const found: Array<[string, string, string]> = [];
    for await (const workflow of setup.stack.client.workflow.list({
      query: `TaskQueue = "${setup.env.TEMPORAL_TASK_QUEUE}"`,
    }))
      found.push([workflow.workflowId, workflow.type, workflow.status.name]);
    return found.sort();
  }

  async function assertNothingWritten(): Promise<void> {
    const db = setup.stack.mongo.db(setup.stack.config.DOCDB_DATABASE);
    assert.equal(await db.collection(setup.stack.config.DOCDB_COLLECTION).countDocuments(), 0, 'records');
    assert.equal(await db.collection('dispatch_plans').countDocuments(), 0, 'stored plans');
    assert.deepEqual(await listKeys(setup.stack.s3, setup.stack.bucket), objectsBefore, 'objects');
  }

  const query = '{"name": {"$regex": "^asset_"}}';
  const csv = (name: string, text: string) => {
    const path = join(setup.dir, name);
    writeFileSync(path, text);
    return path;
  };
  const cases: Array<{ name: string; args: () => string[]; message: RegExp; inPlanning?: true }> = [
    {
      name: '$accumulator deep in the query',
      args: () => [
        '--query',
        '{"$or": [{"a": 1}, {"b": {"$elemMatch": {"$expr": {"$accumulator": {"init": "function() {}"}}}}}]}',
        '--analysis_spec',
        spec,
      ],
      message: /\$accumulator/,
    },
    {
      name: '$where inside a list inside a list',
      args: () => [
        '--query',
        '{"$nor": [{"$and": [{"x": 1}, {"$or": [{"y": 2}, {"$where": "sleep(1000)"}]}]}]}',
        '--analysis_spec',
        spec,
      ],
      message: /\$where/,
    },
    {
      name: 'an empty CSV',
      args: () => ['--use_data_assets', '1', '--asset_csv', csv('empty.csv', ''), '--analysis_spec', spec],
      message: /empty\.csv.*empty/,
    },
    {
      name: 'a CSV with an asset_id column and no ids',
      args: () => [
        '--use_data_assets',
        '1',
        '--asset_csv',
        csv('header-only.csv', 'asset_id,note\n,\n'),
        '--analysis_spec',
        spec,
      ],
      message: /asset_id.*empty/,
    },
    {
      name: 'a CSV whose ids match nothing',
      inPlanning: true,
      args: () => [
        '--use_data_assets',
        '1',
        '--asset_csv',
        csv('nobody.csv', 'asset_id\nnobody_1\nnobody_2\n'),
        '--analysis_spec',
        spec,
      ],
      message: /nobody_1/,
    },
    {
      name: 'a spec without an analysis_name',
      args: () => [
        '--query',
        query,
        '--analysis_spec',
        writeSpec(setup.dir, [{ analysis_version: '1' }], 'noname.json'),
      ],
      message: /analysis_name/,
    },
    {
      name: 'a spec whose command is not a list',
      args: () => [
        '--query',
        query,
        '--analysis_spec',
        writeSpec(
          setup.dir,
          [{ analysis_name: 'Shell', analysis_version: '1', command: 'python3 run.py; rm -rf /' }],
          'command-string.json',
        ),
      ],
      message: /command.*list/,
    },
    {
      name: 'assets whose location is not an s3:// URL',
      inPlanning: true,
      args: () => ['--query', '{"name": {"$regex": "^local_"}}', '--analysis_spec', spec],
      message: /s3:\/\//,
    },
  ];

  // The CLI's refusals first, so that the test after them can see that none started a workflow.
  const refusedInPlanning: string[] = [];
  const ordered = [...cases.filter((one) => !one.inPlanning), ...cases.filter((one) => one.inPlanning)];
  for (const one of ordered) {
    test(`${one.name}: clear message, exit 2, no collection changed, nothing written`, async () => {
      const databaseBefore = await databaseContents();
      const result = await runCli(['dispatch', ...one.args()], setup.env);
      assert.equal(result.code, 2, `expected exit 2, got ${result.code}: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr + result.stdout, one.message);
      assert.deepEqual(await databaseContents(), databaseBefore, 'no collection changed, requests included');
      await assertNothingWritten();
      const started = /^dispatch (\S+)$/m.exec(result.stdout)?.[1];
      if (!one.inPlanning) assert.equal(started, undefined, 'refused before a dispatch started');
      else {
        assert.ok(started, `a dispatch whose planning refused it: ${result.stdout}`);
        refusedInPlanning.push(`dispatch-${started}`);
      }
    });
    if (one === ordered.filter((each) => !each.inPlanning).at(-1)) {
      test('the command lines the CLI refused started no workflow', async () => {
        // Visibility lists a started workflow within moments; give it ample time to.
        await delay(3000);
        assert.deepEqual(await workflowsOnQueue(), []);
      });
    }
  }

  test('the dispatches refused in planning failed there and started no job', async () => {
    await delay(3000);
    assert.deepEqual(
      await workflowsOnQueue(),
      refusedInPlanning.map((id) => [id, 'dispatch', 'FAILED']).sort(),
    );
  });

  test('plan names an asset it skips for its location, and plans the others', async () => {
    const result = await runCli(
      ['plan', '--query', '{"name": {"$regex": "^(local_0|asset_0000)$"}}', '--analysis_spec', spec],
      setup.env,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /skipped asset local_0 .*file:\/\/\/data\/local_0.*s3:\/\/bucket\/prefix/);
    assert.match(result.stdout, /1 tasks from 1 assets/);
  });

  /** A command run against a server that is not there: a clear error within seconds, not a hang. */
  async function unreachable(args: string[], env: NodeJS.ProcessEnv, message: RegExp): Promise<void> {
    const started = Date.now();
    const result = await runCli(args, { ...setup.env, ...env }, { timeoutMs: 120_000 });
    const ms = Date.now() - started;
    assert.notEqual(result.code, 0, `expected failure, got: ${result.stdout}`);
    assert.match(result.stderr, message);
    assert.ok(ms < PROMPT_MS, `answered after ${ms} ms`);
    await assertNothingWritten();
  }

  test('unreachable database: plan says which database it cannot reach, within seconds', async () => {
    await unreachable(
      ['plan', '--query', query, '--analysis_spec', spec],
      { MONGODB_URI: `mongodb://${CLOSED}` },
      /cannot reach the database at mongodb:\/\/127\.0\.0\.1:1/,
    );
  });

  test('unreachable S3: plan says it cannot reach S3, within seconds', async () => {
    await unreachable(
      ['plan', '--query', query, '--analysis_spec', spec],
      { AWS_ENDPOINT_URL_S3: `http://${CLOSED}` },
      /S3.*127\.0\.0\.1:1|127\.0\.0\.1:1.*S3/,
    );
  });

  test('unreachable Temporal: dispatch says which server it cannot reach, within seconds', async () => {
    await unreachable(
      ['dispatch', '--query', query, '--analysis_spec', spec],
      { TEMPORAL_ADDRESS: CLOSED },
      /cannot reach the Temporal server at 127\.0\.0\.1:1/,
    );
  });

  test('unreachable database: a worker says which database it cannot reach and exits, within seconds', async () => {
    const started = Date.now();
    const worker = spawnWorkerProcess(
      { ...setup.env, MONGODB_URI: `mongodb://user:not-a-secret@${CLOSED}` },
      join(FAULTS_OUTPUT, setup.stack.name),
      'worker-no-database',
    );
    await worker.ready.then(
      () => assert.fail('the worker started without its database'),
      () => undefined,
    );
    const code = await worker.exited;
    assert.ok(Date.now() - started < PROMPT_MS + 15_000, 'gave up within seconds');
    assert.notEqual(code, 0);
    // The database by its hosts alone: neither the user nor the password.
    assert.match(worker.log(), /database at mongodb:\/\/127\.0\.0\.1:1\b/);
    assert.doesNotMatch(worker.log(), /not-a-secret|mongodb:\/\/user/);
  });

  // Last: this one plans and runs (planning does not look for programs), so it leaves a stored plan.
  test('a command that does not exist: every task fails at once, naming it; exit non-zero; no record or object', async () => {
    const result = await runCli(
      [
        'dispatch',
        '--query',
        query,
        '--analysis_spec',
        writeSpec(
          setup.dir,
          [{ analysis_name: 'Missing', analysis_version: '1', command: ['no-such-program-7e1', 'x'] }],
          'missing-command.json',
        ),
        '--wait',
      ],
      setup.env,
    );
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /Cannot run "no-such-program-7e1": not found/);
    const id = /^dispatch (\S+)$/m.exec(result.stdout)?.[1] ?? '';
    const runs = (
      await Promise.all(
        jobWorkflowIds(`dispatch-${id}`, 2).map((workflowId) =>
          activityOutcomes(setup.stack.client, workflowId),
        ),
      )
    )
      .flat()
      .filter((activity) => activity.activityType === 'runTask');
    assert.deepEqual(
      runs.map((run) => [run.status, run.attempt, run.failureType]),
      [
        ['failed', 1, 'CommandNotFound'],
        ['failed', 1, 'CommandNotFound'],
      ],
      'not retried: a missing program stays missing',
    );
    const db = setup.stack.mongo.db(setup.stack.config.DOCDB_DATABASE);
    assert.equal(await db.collection(setup.stack.config.DOCDB_COLLECTION).countDocuments(), 0, 'records');
    assert.deepEqual(await listKeys(setup.stack.s3, setup.stack.bucket), objectsBefore, 'objects');
  });
});
