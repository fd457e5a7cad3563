import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli';
import { seedAssets } from '../helpers/data';
import { listKeys } from '../helpers/stack';
import { reportFigures } from './helpers/figures';
import { jobWorkflowIds } from './helpers/history';
import { readText, recordsOf } from './helpers/results';
import { COMMANDS, faultSetup, type FaultSetup } from './helpers/setup';
import { exportHistory, runIds, searchableHistory } from './helpers/temporal-cli';

/**
 * Secrets never leave the worker's environment: not into workflow histories (inputs, results,
 * failures, signals), logs, CLI output, records or the objects written next to the results.
 * FerretDB's PLAIN mechanism accepts any user and password, so a real password travels in the URI,
 * with credential options the driver accepts and keeps; the dev server ignores the Temporal API
 * key that workers and the CLI send with every call (over plain gRPC, as TEMPORAL_TLS=false asks).
 */
describe('secrets', () => {
  let setup: FaultSetup;
  const password = `pw${randomBytes(12).toString('hex')}`;
  const keyFilePassword = `kp${randomBytes(12).toString('hex')}`;
  const sessionToken = `st${randomBytes(12).toString('hex')}`;
  const apiKey = `tk${randomBytes(16).toString('hex')}`;
  let s3Secret: string;

  before(async () => {
    s3Secret = process.env.AWS_SECRET_ACCESS_KEY ?? '';
    assert.ok(s3Secret.length >= 16, 'the stack has an S3 secret key');
    const plain = new URL(process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27017');
    const uri =
      `mongodb://analyst:${password}@${plain.host}/?authMechanism=PLAIN` +
      `&tlsCertificateKeyFilePassword=${keyFilePassword}&authMechanismProperties=AWS_SESSION_TOKEN:${sessionToken}`;
    setup = await faultSetup('secrets', {
      MONGODB_URI: uri,
      TEMPORAL_API_KEY: apiKey,
      TEMPORAL_TLS: 'false',
      ANALYSIS_CONTINUE_AS_NEW_AFTER: '2',
      // Everything the worker and the CLI would log, so that the logs searched say the most.
      WORKER_LOG_LEVEL: 'debug',
      LOG_LEVEL: 'debug',
    });
    await seedAssets(setup.stack, { count: 2, namePrefix: 'secret' });
    await setup.workers.start();
  });
  after(async () => setup?.close());

  test('the S3 secret key, the database password and options and the Temporal API key appear in no history, log, record or object', async (t) => {
    const spec = setup.writeJson('spec.json', [
      // Shows its whole environment everywhere it can, and fails when asked to (stderr -> failure).
      {
        analysis_name: 'Dump Env',
        analysis_version: '1',
        command: ['node', `${COMMANDS}/dump-env.mjs`],
        max_attempts: 2,
      },
      // Fails in the worker's own S3 download, with the SDK's error in history.
      {
        analysis_name: 'Missing Input',
        analysis_version: '1',
        command: ['node', `${COMMANDS}/dump-env.mjs`],
        download_inputs: ['no/such/input.bin'],
        max_attempts: 1,
      },
      { analysis_name: 'Noop', analysis_version: '1' },
    ]);
    const parameters = setup.writeJson('parameters.json', {
      distributed_parameters: [{ fail: false }, { fail: true }],
    });
    const dispatch = await runCli(
      [
        'dispatch',
        '--query',
        '{"name": {"$regex": "^secret_"}}',
        '--analysis_spec',
        spec,
        '--analysis_parameters',
        parameters,
        '--tasks_per_job',
        '2',
        '--num_parallel_workers',
        '2',
        '--wait',
      ],
      setup.env,
      { timeoutMs: 5 * 60_000 },
    );
    const id = /^dispatch (\S+)$/m.exec(dispatch.stdout)?.[1];
    assert.ok(id, dispatch.stdout + dispatch.stderr);
    // 2 assets x 3 analyses x 2 parameter sets; the failing ones fail, the dispatch with them.
    assert.equal(dispatch.code, 1, dispatch.stdout + dispatch.stderr);
    assert.match(dispatch.stdout, /6 of 12 tasks failed/);
    const status = await runCli(['status', id], setup.env);
    const results = await runCli(['results', '--json'], setup.env);
    assert.equal(results.code, 0, results.stderr);

    // The CLI's logs are its stderr; the workers' are their files.
    const workerLogs = setup.workers.logs();
    assert.match(workerLogs, /"msg":"worker started"/, 'the worker logs were kept');
    assert.match(workerLogs, /"level":20,/, 'the worker logs hold debug lines');
    const places: Array<[string, string]> = [
      ['dispatch output and log', dispatch.stdout + dispatch.stderr],
      ['status output and log', status.stdout + status.stderr],
      ['results output and log', results.stdout + results.stderr],
      ['worker logs', workerLogs],
    ];
    const dispatchWorkflowId = `dispatch-${id}`;
    const runs = await runIds(dispatchWorkflowId);
    assert.ok(runs.length >= 3, `the dispatch continued as new (${runs.length} runs)`);
    for (const runId of runs)
      places.push([
        `history of ${dispatchWorkflowId} run ${runId}`,
        await exportHistory(dispatchWorkflowId, runId),
      ]);
    for (const jobId of jobWorkflowIds(dispatchWorkflowId, 6))
      places.push([`history of ${jobId}`, await exportHistory(jobId)]);

    const records = await recordsOf(setup.stack).find().toArray();
    assert.equal(records.length, 6);
    places.push(['records', JSON.stringify(records)]);
    const plans = await setup.stack.mongo
      .db(setup.stack.config.DOCDB_DATABASE)
      .collection('dispatch_plans')
      .find()
      .toArray();
    places.push(['stored plans', JSON.stringify(plans)]);
    const keys = (await listKeys(setup.stack.s3, setup.stack.bucket)).filter(
      (key) => !key.startsWith('data/'),
    );
    assert.ok(keys.some((key) => key.endsWith('/metadata.nd.json')));
    for (const key of keys) places.push([`object ${key}`, await readText(setup.stack, key)]);

    // The checks can see a leak: what the analysis was given is in these places, secrets aside.
    const everything = places.map(([, text]) => text).join('\n');
    assert.match(everything, /"PATH":/, 'the dumped environment reached the checked places');
    assert.match(everything, /AnalysisFailed|exited with code 1/);

    let bytes = 0;
    let payloads = 0;
    for (const [where, text] of places) {
      let searchable = text;
      if (where.startsWith('history')) {
        // A payload the search could not read could hide a secret: every one must be read.
        const history = searchableHistory(text);
        assert.deepEqual(history.unreadable, [], `payloads of ${where} that could not be decoded`);
        assert.equal(history.decoded, history.payloads, where);
        assert.ok(history.payloads > 0, `${where} has payloads`);
        payloads += history.payloads;
        searchable = history.text;
      }
      bytes += searchable.length;
      for (const [name, secret] of [
        ['S3 secret key', s3Secret],
        ['database password', password],
        ['tlsCertificateKeyFilePassword', keyFilePassword],
        ['AWS_SESSION_TOKEN of authMechanismProperties', sessionToken],
        ['Temporal API key', apiKey],
      ] as const)
        assert.ok(!searchable.includes(secret), `${name} found in ${where}`);
    }
    reportFigures(t, {
      places_checked: places.length,
      bytes_searched: bytes,
      histories: runs.length + 6,
      payloads_decoded: payloads,
    });
  });
});
