import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { EXIT } from '../../src/dispatch-outcome';
import { runCli, type CliResult } from '../helpers/cli';
import { loadedPackages, loadedPackagesProbe } from '../helpers/loaded-packages';
import { analysisRuns, fakeJobs, plannedJobs, stubActivities } from './helpers/activities';
import { newDispatch, startDispatch } from './helpers/dispatch-messages';
import { bundleWorkflows, startTestServer, startWorker, type TestWorker } from './helpers/server';

/** Certificates made for the test with the openssl CLI: a CA, the server's and a client's, and a stranger CA. */
function certificates(dir: string) {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  for (const ca of ['ca', 'stranger'])
    openssl(
      'req',
      '-x509',
      ...key,
      '-keyout',
      `${ca}.key`,
      '-out',
      `${ca}.pem`,
      '-days',
      '1',
      '-subj',
      `/CN=${ca}`,
    );
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const leaf of ['server', 'client']) {
    openssl('req', ...key, '-keyout', `${leaf}.key`, '-out', `${leaf}.csr`, '-subj', `/CN=${leaf}`);
    openssl(
      'x509', '-req', '-in', `${leaf}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
      '-out', `${leaf}.pem`, '-days', '1', '-extfile', `${leaf}.ext`,
    ); // prettier-ignore
  }
  const file = (name: string) => join(dir, name);
  return { ca: file('ca.pem'), stranger: file('stranger.pem'), file };
}

/** What the TLS front saw of one call. */
interface Seen {
  path: string;
  authorization?: string;
  namespace?: string;
  tenant?: string;
  clientCert?: string;
  sdk: boolean;
}

/**
 * A TLS-terminating HTTP/2 front for the plaintext dev server, as a Temporal server with TLS would
 * look from the outside: it forwards each gRPC call and notes what came with it.
 */
async function tlsFront(
  upstream: string,
  tls: { key: Buffer; cert: Buffer; ca?: Buffer; requestCert: boolean },
  options: { failLean?: string } = {},
) {
  const seen: Seen[] = [];
  const server = http2.createSecureServer({ ...tls, rejectUnauthorized: tls.requestCert });
  const client = http2.connect(`http://${upstream}`);
  client.on('error', () => undefined);
  server.on('stream', (stream, headers) => {
    const socket = stream.session?.socket as TLSSocket | undefined;
    const peer = socket?.getPeerCertificate();
    // The SDK's transport names itself; the plain reads of `status` send no user agent.
    const sdk = String(headers['user-agent'] ?? '').includes('grpc-node-js');
    seen.push({
      path: String(headers[':path']),
      authorization: headers.authorization as string | undefined,
      namespace: headers['temporal-namespace'] as string | undefined,
      tenant: headers['x-tenant'] as string | undefined,
      clientCert: peer?.subject?.CN as string | undefined,
      sdk,
    });
    if (options.failLean && !sdk) {
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'grpc-status': '13',
          'grpc-message': options.failLean,
        },
        { endStream: true },
      );
      return;
    }
    const forwarded: http2.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(headers))
      if (!name.startsWith(':') || name === ':path' || name === ':method') forwarded[name] = value;
    const call = client.request(forwarded);
    stream.pipe(call);
    call.on('response', (response) => {
      const { ':status': status, ...rest } = response;
      stream.respond({ ':status': status, ...rest }, { waitForTrailers: true });
    });
    let trailers: http2.OutgoingHttpHeaders = {};
    call.on('trailers', (sent) => (trailers = sent));
    stream.on('wantTrailers', () => stream.sendTrailers(trailers));
    call.pipe(stream);
    call.on('error', () => stream.destroy());
    stream.on('error', () => call.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: async () => {
      client.close();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * `status` reads a dispatch over its own gRPC calls, with the connection settings the SDK's client
 * takes: TLS with a CA, a client certificate, an API key, a temporal.toml profile. Through a TLS
 * front of a dev server of its own, it must answer as it does in plaintext, without the SDK; what it
 * cannot read (a TLS handshake that fails, a server error) goes to the SDK, which answers or fails
 * in its own words.
 */
describe('status connection settings', () => {
  let env: TestWorkflowEnvironment;
  let worker: TestWorker;
  let dir: string;
  let certs: ReturnType<typeof certificates>;
  const dispatchId = '20260101-000000-0001';
  let plaintext: CliResult;
  const fronts: Array<{ close(): Promise<void> }> = [];

  const status = (settings: NodeJS.ProcessEnv) =>
    runCli(
      ['status', dispatchId, '--json'],
      {
        PATH: process.env.PATH,
        HOME: dir,
        TEMPORAL_CONFIG_FILE: join(dir, 'absent.toml'),
        NODE_OPTIONS: `--require ${loadedPackagesProbe()}`,
        ...settings,
      },
      { timeoutMs: 60_000 },
    );
  const output = (result: CliResult) => `exit ${result.code}\n${result.stdout}\n${result.stderr}`;
  const usedSdk = (result: CliResult) => (loadedPackages(result.stderr) ?? []).includes('@temporalio/client');
  const front = async (requestCert: boolean, options: { failLean?: string } = {}) => {
    const opened = await tlsFront(
      env.address,
      {
        key: readFileSync(certs.file('server.key')),
        cert: readFileSync(certs.file('server.pem')),
        ca: readFileSync(certs.ca),
        requestCert,
      },
      options,
    );
    fronts.push(opened);
    return opened;
  };
  /** The same answer as over plaintext, read by `status` itself. */
  const assertSameWithoutSdk = (result: CliResult) => {
    assert.equal(result.code, plaintext.code, output(result));
    assert.deepEqual(JSON.parse(result.stdout), JSON.parse(plaintext.stdout));
    assert.ok(!usedSdk(result), `read through the SDK:\n${output(result)}`);
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'status-connection-'));
    certs = certificates(dir);
    env = await startTestServer();
    worker = await startWorker(env, await bundleWorkflows());
    const runs = analysisRuns({ fails: (hash) => hash === 't1' });
    const planned = plannedJobs(fakeJobs(2));
    const handle = await startDispatch(
      env.client,
      worker,
      newDispatch(dispatchId, { tolerated_failure_count: 1 }),
      stubActivities({ ...planned.activities, ...runs.activities }),
    );
    await handle.result();
    plaintext = await status({ TEMPORAL_ADDRESS: env.address });
  });
  after(async () => {
    for (const opened of fronts) await opened.close();
    await worker?.stop();
    await env?.teardown();
  });

  test('plaintext: the dispatch as it ended, read without the SDK', () => {
    assert.equal(plaintext.code, EXIT.partial, output(plaintext));
    assert.equal((JSON.parse(plaintext.stdout) as { status: string }).status, 'completed_with_failures');
    assert.ok(!usedSdk(plaintext), output(plaintext));
  });

  test('TLS with a CA, a client certificate, an API key: the same answer', async () => {
    const tls = await front(false);
    assertSameWithoutSdk(
      await status({ TEMPORAL_ADDRESS: tls.address, TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.ca }),
    );
    assert.ok(tls.seen.length > 0 && tls.seen.every((call) => call.namespace === 'default'));

    const mtls = await front(true);
    assertSameWithoutSdk(
      await status({
        TEMPORAL_ADDRESS: mtls.address,
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.ca,
        TEMPORAL_TLS_CLIENT_CERT_PATH: certs.file('client.pem'),
        TEMPORAL_TLS_CLIENT_KEY_PATH: certs.file('client.key'),
      }),
    );
    assert.ok(mtls.seen.length > 0 && mtls.seen.every((call) => call.clientCert === 'client'));

    // An API key turns TLS on by itself, as in the SDK.
    const keyed = await front(false);
    assertSameWithoutSdk(
      await status({
        TEMPORAL_ADDRESS: keyed.address,
        TEMPORAL_API_KEY: 'key-1',
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.ca,
      }),
    );
    assert.ok(keyed.seen.length > 0 && keyed.seen.every((call) => call.authorization === 'Bearer key-1'));
  });

  test('a temporal.toml profile: the same answer, with everything the profile names', async () => {
    const mtls = await front(true);
    const config = join(dir, 'temporal.toml');
    writeFileSync(
      config,
      [
        '[profile.default]',
        'address = "127.0.0.1:1"',
        '[profile.secure]',
        `address = "${mtls.address}"`,
        'namespace = "default"',
        'api_key = "key-2"',
        '[profile.secure.tls]',
        `server_ca_cert_path = "${certs.ca}"`,
        `client_cert_path = "${certs.file('client.pem')}"`,
        `client_key_path = "${certs.file('client.key')}"`,
        '[profile.secure.grpc_meta]',
        'x-tenant = "lab"',
        '',
      ].join('\n'),
    );
    assertSameWithoutSdk(await status({ TEMPORAL_CONFIG_FILE: config, TEMPORAL_PROFILE: 'secure' }));
    assert.ok(mtls.seen.length > 0);
    for (const call of mtls.seen) {
      assert.equal(call.authorization, 'Bearer key-2');
      assert.equal(call.clientCert, 'client');
      assert.equal(call.tenant, 'lab');
    }
  });

  test('a TLS handshake that fails goes to the SDK, which fails in its own words', async () => {
    const tls = await front(false);
    const result = await status({
      TEMPORAL_ADDRESS: tls.address,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.stranger,
    });
    assert.equal(result.code, 1, output(result));
    assert.match(
      result.stderr,
      new RegExp(`^error: cannot reach the Temporal server at ${tls.address}: `, 'm'),
    );
    assert.ok(usedSdk(result), 'the SDK was asked');
  });

  test('a server error with a % in its message goes to the SDK, which answers', async () => {
    const tls = await front(false, { failLean: 'internal: disk 100% full' });
    const result = await status({
      TEMPORAL_ADDRESS: tls.address,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.ca,
    });
    assert.equal(result.code, plaintext.code, output(result));
    assert.deepEqual(JSON.parse(result.stdout), JSON.parse(plaintext.stdout));
    assert.ok(usedSdk(result), 'the SDK was asked');
    assert.ok(tls.seen.some((call) => !call.sdk) && tls.seen.some((call) => call.sdk));
  });
});
