import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import {
  CancelledFailure,
  defaultFailureConverter,
  defaultPayloadConverter,
  RetryState,
  TerminatedFailure,
} from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import Long from 'long';
import { Root, type INamespace } from 'protobufjs';
import { SUBSET_FILE, workflowServiceSubset } from '../../scripts/workflow-service-subset';
import { failureClose } from '../../src/client/follow/reads';
import { closedOutcome, resultOutcome, type Outcome } from '../../src/dispatch-outcome';
import { leanCurrentOutcome } from '../../src/client/follow/status-read';
import {
  decodeGrpcMessage,
  GrpcChannel,
  GrpcError,
  Unreachable,
  Unsupported,
  type ChannelLimits,
} from '../../src/temporal-rpc/channel';
import { decodeMessage, encodeMessage } from '../../src/temporal-rpc/messages';
import {
  decodePayload,
  grpcTarget,
  proxyConfigured,
  readCloseEvent,
} from '../../src/temporal-rpc/workflow-reader';
import type { DispatchResult } from '../../src/workflows/messages';

/** What the SDK path makes of a dispatch whose result threw `err`. */
const failureOutcome = (err: WorkflowFailedError) => closedOutcome(failureClose(err));

const json = (value: unknown) => ({
  metadata: { encoding: Buffer.from('json/plain') },
  data: Buffer.from(JSON.stringify(value)),
});

describe('workflow-service.json', () => {
  test('is what scripts/workflow-service-subset.ts makes of the installed @temporalio/proto', () => {
    const committed = JSON.parse(readFileSync(SUBSET_FILE, 'utf8')) as INamespace;
    assert.deepEqual(
      committed,
      workflowServiceSubset(),
      'the API changed: run npx tsx scripts/workflow-service-subset.ts',
    );
  });

  test('names no type it does not define', () => {
    const subset = Root.fromJSON(JSON.parse(readFileSync(SUBSET_FILE, 'utf8')) as INamespace);
    assert.doesNotThrow(() => subset.resolveAll());
  });
});

describe('messages and the reads of a workflow', () => {
  test('close events encoded with the API decode to the outcomes the SDK makes of them', () => {
    const { HistoryEvent } = temporal.api.history.v1;
    const progress = { phase: 'failed', counts: { failed: 3 } };
    const appFailure = (message: string, type: string, details: unknown[]) => ({
      message,
      stackTrace: 'ApplicationFailure: ...',
      applicationFailureInfo: { type, nonRetryable: true, details: { payloads: details.map(json) } },
    });
    const failures: temporal.api.failure.v1.IFailure[] = [
      appFailure('3 tasks failed', 'TasksFailed', [progress]),
      appFailure('untyped', '', []),
      // Planning failed: an activity's failure around the workflow's own error, as a real dispatch's.
      {
        message: 'Activity task failed',
        activityFailureInfo: { activityType: { name: 'planDispatch' }, identity: 'w1' },
        cause: appFailure('--query matched no assets', 'InvalidInput', []),
      },
      {
        message: 'Child Workflow execution failed',
        childWorkflowExecutionFailureInfo: {
          namespace: 'default',
          workflowType: { name: 'job' },
          workflowExecution: { workflowId: 'dispatch-x-job-1' },
        },
        cause: {
          message: 'Activity task failed',
          activityFailureInfo: { activityType: { name: 'runTask' } },
          cause: appFailure('disk', 'Error', []),
        },
      },
    ];
    const cases: Array<{ event: temporal.api.history.v1.IHistoryEvent; sdk: Outcome }> = [
      {
        event: { workflowExecutionCompletedEventAttributes: { result: { payloads: [json(progress)] } } },
        sdk: resultOutcome(progress as unknown as DispatchResult),
      },
      ...failures.map((failure) => ({
        event: { workflowExecutionFailedEventAttributes: { failure } },
        sdk: failureOutcome(
          new WorkflowFailedError(
            'Workflow execution failed',
            defaultFailureConverter.failureToError(failure, defaultPayloadConverter),
            RetryState.NON_RETRYABLE_FAILURE,
          ),
        ),
      })),
      {
        event: { workflowExecutionCanceledEventAttributes: {} },
        sdk: failureOutcome(
          new WorkflowFailedError(
            '',
            new CancelledFailure('Workflow canceled'),
            RetryState.NON_RETRYABLE_FAILURE,
          ),
        ),
      },
      {
        event: { workflowExecutionTerminatedEventAttributes: { reason: 'stopped by ops', identity: 'cli' } },
        sdk: failureOutcome(
          new WorkflowFailedError(
            '',
            new TerminatedFailure('stopped by ops'),
            RetryState.NON_RETRYABLE_FAILURE,
          ),
        ),
      },
    ];
    for (const { event, sdk } of cases) {
      const bytes = HistoryEvent.encode(event).finish();
      const read = readCloseEvent(decodeMessage('temporal.api.history.v1.HistoryEvent', bytes));
      assert.deepEqual(closedOutcome(read), sdk, JSON.stringify(event).slice(0, 120));
    }
    // A run that went on in another (a retry or cron run) is followed by the SDK, not here.
    const continued = HistoryEvent.encode({
      workflowExecutionCompletedEventAttributes: { newExecutionRunId: 'r2' },
    }).finish();
    assert.throws(
      () => readCloseEvent(decodeMessage('temporal.api.history.v1.HistoryEvent', continued)),
      Unsupported,
    );
    // A failure converter that encodes the message needs that converter to read it.
    const encoded = HistoryEvent.encode({
      workflowExecutionFailedEventAttributes: {
        failure: {
          message: 'Encoded failure',
          encodedAttributes: json({ message: 'secret' }),
          applicationFailureInfo: {},
        },
      },
    }).finish();
    assert.throws(
      () => readCloseEvent(decodeMessage('temporal.api.history.v1.HistoryEvent', encoded)),
      Unsupported,
    );
  });

  test('every execution status and history filter reads and writes as the API has it, 0 the default', () => {
    const { enums, workflowservice } = temporal.api;
    for (const [name, number] of Object.entries(enums.v1.WorkflowExecutionStatus)) {
      if (typeof number !== 'number' || number === 0) continue;
      const bytes = workflowservice.v1.DescribeWorkflowExecutionResponse.encode({
        workflowExecutionInfo: { status: number },
      }).finish();
      const decoded = decodeMessage<{ workflowExecutionInfo?: { status?: string } }>(
        'temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse',
        bytes,
      );
      assert.equal(decoded.workflowExecutionInfo?.status, name);
    }
    for (const [name, number] of Object.entries(enums.v1.HistoryEventFilterType)) {
      if (typeof number !== 'number' || number === 0) continue;
      const request = workflowservice.v1.GetWorkflowExecutionHistoryRequest.decode(
        encodeMessage('temporal.api.workflowservice.v1.GetWorkflowExecutionHistoryRequest', {
          historyEventFilterType: name,
        }),
      );
      assert.equal(request.historyEventFilterType, number, name);
    }
  });

  test('requests encode as the API decodes them; responses decode past the fields left out', () => {
    const { workflowservice } = temporal.api;
    const history = workflowservice.v1.GetWorkflowExecutionHistoryRequest.decode(
      encodeMessage('temporal.api.workflowservice.v1.GetWorkflowExecutionHistoryRequest', {
        namespace: 'ns',
        execution: { workflowId: 'dispatch-x' },
        nextPageToken: Buffer.from([0, 1, 255]),
        waitNewEvent: true,
        historyEventFilterType: 'HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT',
        skipArchival: true,
      }),
    );
    assert.equal(history.namespace, 'ns');
    assert.equal(history.execution?.workflowId, 'dispatch-x');
    assert.deepEqual([...history.nextPageToken], [0, 1, 255]);
    assert.equal(history.waitNewEvent, true);
    assert.equal(history.skipArchival, true);
    assert.equal(
      history.historyEventFilterType,
      temporal.api.enums.v1.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
    );
    const query = workflowservice.v1.QueryWorkflowRequest.decode(
      encodeMessage('temporal.api.workflowservice.v1.QueryWorkflowRequest', {
        namespace: 'ns',
        execution: { workflowId: 'w' },
        query: { queryType: 'progress' },
      }),
    );
    assert.equal(query.query?.queryType, 'progress');

    // A full description, most of it not in the lean schema.
    const description = workflowservice.v1.DescribeWorkflowExecutionResponse.encode({
      executionConfig: { taskQueue: { name: 'analysis' } },
      workflowExecutionInfo: {
        execution: { workflowId: 'w', runId: 'r' },
        type: { name: 'dispatch' },
        startTime: { seconds: Long.fromNumber(1_700_000_000) },
        closeTime: { seconds: Long.fromNumber(1_700_000_100), nanos: 250_000_000 },
        status: temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED,
        historyLength: Long.fromNumber(42),
        memo: { fields: { note: json('x') } },
        searchAttributes: { indexedFields: { DispatchId: json('d1') } },
        taskQueue: 'analysis',
      },
      pendingActivities: [{ activityId: '1', attempt: 3 }],
    }).finish();
    assert.deepEqual(
      decodeMessage('temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse', description),
      {
        workflowExecutionInfo: {
          execution: { workflowId: 'w', runId: 'r' },
          closeTime: { seconds: 1_700_000_100, nanos: 250_000_000 },
          status: 'WORKFLOW_EXECUTION_STATUS_COMPLETED',
        },
      },
    );
  });

  test('closedOutcome reads each ending as the SDK path does', () => {
    assert.deepEqual(
      closedOutcome({
        kind: 'failed',
        failure: {
          kind: 'activity',
          message: 'Activity task failed',
          cause: { kind: 'application', message: 'no assets', type: 'InvalidInput', details: [] },
        },
      }),
      { status: 'failed', error: 'no assets', errorType: 'InvalidInput' },
    );
    assert.deepEqual(
      closedOutcome({
        kind: 'failed',
        failure: {
          kind: 'application',
          message: '3 tasks failed',
          type: 'TasksFailed',
          details: [{ phase: 'x' }],
        },
      }),
      { status: 'failed', progress: { phase: 'x' }, error: '3 tasks failed', errorType: 'TasksFailed' },
    );
    assert.deepEqual(closedOutcome({ kind: 'cancelled' }), { status: 'cancelled' });
    assert.deepEqual(closedOutcome({ kind: 'terminated', reason: '' }), {
      status: 'terminated',
      error: 'Workflow execution terminated',
      errorType: undefined,
    });
    assert.equal(closedOutcome({ kind: 'timed_out' }).status, 'timed_out');
  });

  test('grpcTarget gives Temporal its port where the address has none', () => {
    assert.equal(grpcTarget(undefined), 'localhost:7233');
    assert.equal(grpcTarget('temporal.internal'), 'temporal.internal:7233');
    assert.equal(grpcTarget('ns.acct.tmprl.cloud:7233'), 'ns.acct.tmprl.cloud:7233');
    assert.equal(grpcTarget('[::1]:7234'), '[::1]:7234');
    assert.equal(grpcTarget('[::1]'), '[::1]:7233');
    assert.throws(() => grpcTarget('http://x:1/y'), Unsupported);
  });

  test('payloads of the default converter are read; others are left to the SDK', () => {
    assert.deepEqual(decodePayload(json({ a: [1, 'b'] })), { a: [1, 'b'] });
    assert.equal(decodePayload({ metadata: { encoding: Buffer.from('binary/null') } }), undefined);
    assert.throws(
      () =>
        decodePayload({ metadata: { encoding: Buffer.from('binary/encrypted') }, data: Buffer.from('x') }),
      Unsupported,
    );
  });
});

describe('channel', () => {
  /** A gRPC server in name only: answers every call as `answer` says. */
  let server: http2.Http2Server;
  let answer: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void;
  let target: string;
  const limits: ChannelLimits = { connectMs: 2000, totalMs: 2000, maxResponseBytes: 1024 };
  const call = async (overrides: Partial<ChannelLimits> = {}, address = target) => {
    const channel = GrpcChannel.open(address, { 'temporal-namespace': 'ns' }, undefined, {
      ...limits,
      ...overrides,
    });
    try {
      return await channel.unary('/temporal.api.workflowservice.v1.WorkflowService/X', Buffer.from('q'));
    } finally {
      channel.close();
    }
  };
  const framed = (message: Buffer) => {
    const head = Buffer.alloc(5);
    head.writeUInt32BE(message.length, 1);
    return Buffer.concat([head, message]);
  };

  before(async () => {
    server = http2.createServer();
    server.on('stream', (stream, headers) => answer(stream, headers));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    target = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  test('decodeGrpcMessage reads percent-encoding, and a bare % as it is', () => {
    assert.equal(decodeGrpcMessage('plain'), 'plain');
    assert.equal(decodeGrpcMessage('done %E2%9C%93 %25'), 'done \u2713 %');
    assert.equal(decodeGrpcMessage('100% full'), '100% full');
    assert.equal(decodeGrpcMessage('%'), '%');
    assert.equal(decodeGrpcMessage('%zz%4'), '%zz%4');
  });

  test('a message and status 0: the message; the request goes out framed, with its headers', async () => {
    let seen: { headers: http2.IncomingHttpHeaders; body: Buffer } | undefined;
    answer = (stream, headers) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        seen = { headers, body: Buffer.concat(chunks) };
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(framed(Buffer.from('answer')));
      });
    };
    assert.equal((await call()).toString(), 'answer');
    assert.equal(seen?.headers['temporal-namespace'], 'ns');
    assert.equal(seen?.headers['content-type'], 'application/grpc');
    assert.deepEqual([...(seen?.body ?? [])], [0, 0, 0, 0, 1, 'q'.charCodeAt(0)]);
  });

  test('an error status, its message percent-encoded or not, is a GrpcError with the message', async () => {
    for (const [sent, read] of [
      ['disk 100% full', 'disk 100% full'],
      ['bad %ZZ and %', 'bad %ZZ and %'],
      ['caf%C3%A9', 'caf\u00e9'],
    ]) {
      // Trailers-only, as servers send a failure before any message.
      answer = (stream) =>
        stream.respond(
          { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '13', 'grpc-message': sent },
          { endStream: true },
        );
      await assert.rejects(
        call(),
        (err: unknown) => err instanceof GrpcError && err.message === `13 ${read}`,
      );
    }
  });

  test('a response past the size bound, a silent server, a non-gRPC answer: Unsupported', async () => {
    answer = (stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
      stream.end(framed(Buffer.alloc(4096)));
    };
    await assert.rejects(call(), /more than 1024 bytes/);
    answer = () => undefined;
    const began = Date.now();
    await assert.rejects(call({ totalMs: 300 }), Unsupported);
    assert.ok(Date.now() - began < 2000);
    answer = (stream) => stream.respond({ ':status': 404 }, { endStream: true });
    await assert.rejects(call(), /HTTP status 404/);
    answer = (stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
      stream.end(framed(Buffer.from('no status')));
    };
    await assert.rejects(call(), /without a gRPC status/);
  });

  test('no server to connect to, or a TLS handshake that fails: Unreachable', async () => {
    const closed = http2.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await assert.rejects(call({}, `127.0.0.1:${port}`), Unreachable);
    // A plaintext server met with TLS: the handshake fails.
    const channel = GrpcChannel.open(target, {}, {}, limits);
    await assert.rejects(channel.unary('/x/Y', Buffer.alloc(0)), Unreachable);
    channel.close();
  });
});

describe('status-read', () => {
  let server: http2.Http2Server;
  let reply: { status: string; message: string };
  const saved = { ...process.env };

  before(async () => {
    server = http2.createServer();
    server.on('stream', (stream) =>
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'grpc-status': reply.status,
          'grpc-message': reply.message,
        },
        { endStream: true },
      ),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    process.env.TEMPORAL_ADDRESS = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    process.env.TEMPORAL_CONFIG_FILE = '/nonexistent/temporal.toml';
    for (const name of ['grpc_proxy', 'https_proxy', 'http_proxy']) delete process.env[name];
  });
  after(() => {
    process.env = saved;
    server.close();
  });

  test('a server error, a % in its message or not, leaves the read to the SDK', async () => {
    for (const message of ['internal 100% broken', 'x%', 'ok']) {
      reply = { status: '13', message };
      assert.equal(await leanCurrentOutcome('dispatch-x'), undefined);
    }
  });

  test('a workflow the server does not know is no dispatch, whatever the message says', async () => {
    reply = { status: '5', message: 'workflow not found for ID: 50% off' };
    await assert.rejects(leanCurrentOutcome('dispatch-20990101-000000-0000'), /no dispatch/);
  });

  test("an address where nothing listens is reported at once, with the system's words", async () => {
    const closed = http2.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const address = process.env.TEMPORAL_ADDRESS;
    process.env.TEMPORAL_ADDRESS = `127.0.0.1:${port}`;
    try {
      await assert.rejects(
        leanCurrentOutcome('dispatch-x'),
        new RegExp(`cannot reach the Temporal server at 127\\.0\\.0\\.1:${port}: connect ECONNREFUSED`),
      );
    } finally {
      process.env.TEMPORAL_ADDRESS = address;
    }
  });

  test('with a proxy to go through, the read is left to the SDK, which honours it', async () => {
    assert.equal(proxyConfigured({}), false);
    for (const name of ['grpc_proxy', 'https_proxy', 'http_proxy'])
      assert.equal(proxyConfigured({ [name]: 'http://proxy:3128' }), true, name);
    reply = { status: '5', message: 'not found' };
    process.env.https_proxy = 'http://127.0.0.1:9';
    try {
      assert.equal(await leanCurrentOutcome('dispatch-x'), undefined);
    } finally {
      delete process.env.https_proxy;
    }
  });
});
