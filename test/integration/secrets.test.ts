import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { StoredRecord } from '../../src/types';
import { runCli, type CliResult } from '../helpers/cli';
import { seedAssets, writeSpec } from '../helpers/data';
import { FIXTURE_ANALYSES, listKeys, ROOT, testStack, type TestStack } from '../helpers/stack';

/** A value no message would hold by chance, so finding it anywhere is a leak. */
const secret = (label: string) => `${label}${randomBytes(9).toString('hex')}`;

/** Runs `analysis worker` until it logs that it started (then stops it) or until it exits. */
function runWorkerProcess(env: NodeJS.ProcessEnv): Promise<CliResult & { started: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'analysis.js'), 'worker'], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let started = false;
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
      if (!started && stderr.includes('"worker started"')) {
        started = true;
        child.kill('SIGTERM');
      }
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, started });
    });
  });
}

/**
 * Secrets in connection strings and repository remotes never print: a CLI or worker shows the
 * database by its hosts when it cannot reach it, when the server rejects it and when all is well,
 * and a record names its code's repository without the token its remote was given.
 */
describe('secrets in connection strings and remotes', () => {
  let stack: TestStack;
  let host: string;

  before(async () => {
    stack = await testStack('secrets');
    host = new URL(stack.config.MONGODB_URI).host;
  });
  after(async () => stack?.close());

  const assertHidden = (output: string, secrets: string[], what: string) => {
    for (const value of secrets) assert.ok(!output.includes(value), `${what} shows a secret: ${output}`);
  };

  test('a CLI that cannot use the database names it by its hosts alone', async () => {
    const password = secret('pw');
    const token = secret('tok');
    const keyPassword = secret('key');
    const proxyPassword = secret('proxy');
    const cases: Array<[string, string, RegExp]> = [
      [
        'a password holding @, unreadable to the driver',
        `mongodb://analyst:p@ss${password}@127.0.0.1:1/`,
        /cannot reach the database at mongodb:\/\/127\.0\.0\.1:1\/: Invalid connection string/,
      ],
      [
        'credential options, no server',
        `mongodb://analyst:${password}@127.0.0.1:1/?tlsCertificateKeyFilePassword=${keyPassword}&authMechanismProperties=AWS_SESSION_TOKEN:${token}`,
        /cannot reach the database at mongodb:\/\/127\.0\.0\.1:1\/: /,
      ],
      [
        'a proxy password, no proxy',
        `mongodb://analyst:${password}@127.0.0.1:1/?proxyHost=127.0.0.1&proxyPort=1&proxyUsername=p&proxyPassword=${proxyPassword}`,
        /cannot reach the database at mongodb:\/\/127\.0\.0\.1:1\/: /,
      ],
      [
        'a server that rejects the login',
        `mongodb://analyst:${password}@${host}/?authMechanism=SCRAM-SHA-256&tlsCertificateKeyFilePassword=${keyPassword}`,
        new RegExp(`cannot reach the database at mongodb://${host}/: .*authentication mechanism`),
      ],
    ];
    const secrets = [password, token, keyPassword, proxyPassword];
    for (const [form, uri, message] of cases) {
      const env = { ...stack.env, MONGODB_URI: uri, LOG_LEVEL: 'debug', DEBUG: '1' };
      const results = await runCli(['results', '--json'], env);
      assert.equal(results.code, 1, `${form}: ${results.stderr}`);
      assert.match(results.stderr, message, form);
      assertHidden(results.stdout + results.stderr, secrets, `results (${form})`);
      const worker = await runWorkerProcess(env);
      assert.equal(worker.started, false, form);
      assert.notEqual(worker.code, 0, `${form}: ${worker.stderr}`);
      assert.match(worker.stderr, /cannot reach the database at mongodb:\/\//, form);
      assertHidden(worker.stdout + worker.stderr, secrets, `worker (${form})`);
    }
  });

  test('a worker that reaches the database logs it by its hosts alone', async () => {
    const password = secret('pw');
    const token = secret('tok');
    const keyPassword = secret('key');
    // FerretDB's PLAIN mechanism takes any user and password, and the driver keeps the options.
    const uri = `mongodb://analyst:${password}@${host}/?authMechanism=PLAIN&tlsCertificateKeyFilePassword=${keyPassword}&authMechanismProperties=AWS_SESSION_TOKEN:${token}`;
    const worker = await runWorkerProcess({ ...stack.env, MONGODB_URI: uri, LOG_LEVEL: 'debug' });
    assert.ok(worker.started, worker.stderr);
    assert.match(worker.stderr, new RegExp(`"database":"mongodb://${host}/"`));
    assertHidden(worker.stdout + worker.stderr, [password, token, keyPassword], 'worker log');
  });

  test("a record names its code's repository without the remote's token", async () => {
    const userToken = secret('ghp');
    const queryToken = secret('qt');
    const signature = secret('sig');
    // A registry folder that is its own repository, cloned with a token as CI systems do.
    const analyses = mkdtempSync(join(tmpdir(), 'secrets-analyses-'));
    for (const file of ['count.analysis.json', 'count.mjs'])
      cpSync(join(FIXTURE_ANALYSES, file), join(analyses, file));
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.org', ...args], {
        cwd: analyses,
        stdio: 'pipe',
      });
    git('init', '-q');
    git('add', '.');
    git('commit', '-qm', 'analyses');
    const remote = `https://x-access-token:${userToken}@git.example.org/org/analyses.git?access_token=${queryToken}&X-Amz-Signature=${signature}`;
    git('remote', 'add', 'origin', remote);

    const env = { ...stack.env, ANALYSIS_MODULES_DIR: analyses };
    await stack.startWorker({ ANALYSIS_MODULES_DIR: analyses });
    await seedAssets(stack, { count: 1, namePrefix: 'sec' });
    const spec = writeSpec(mkdtempSync(join(tmpdir(), 'secrets-spec-')), [
      { analysis_name: 'Count', analysis_version: '1' },
    ]);
    const dispatch = await runCli(
      ['dispatch', '--query', '{"name": {"$regex": "^sec_"}}', '--analysis_spec', spec, '--wait'],
      env,
    );
    assert.equal(dispatch.code, 0, dispatch.stdout + dispatch.stderr);

    const records = await stack.mongo
      .db(stack.config.DOCDB_DATABASE)
      .collection<StoredRecord>(stack.config.DOCDB_COLLECTION)
      .find()
      .toArray();
    assert.equal(records.length, 1);
    assert.equal(records[0]!.code.repository, 'https://git.example.org/org/analyses.git');
    const objects: string[] = [];
    for (const key of await listKeys(stack.s3, stack.bucket)) {
      const object = await stack.s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: key }));
      objects.push(await object.Body!.transformToString());
    }
    const metadata = objects.join('\n');
    assert.match(metadata, /"url":"https:\/\/git\.example\.org\/org\/analyses\.git"/);
    for (const [where, text] of [
      ['record', JSON.stringify(records)],
      ['objects', metadata],
      ['dispatch output', dispatch.stdout + dispatch.stderr],
    ] as const)
      assertHidden(text, [userToken, queryToken, signature], where);
  });
});
