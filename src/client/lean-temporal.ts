import type * as Http2 from 'node:http2';
import { temporalSettings } from '../temporal';
import { decodeMessage, encodeMessage } from './lean-codec';
import { WORKFLOW_SERVICE } from './lean-schema';

/**
 * A few reads of one workflow over plain gRPC, for commands a user types often (`status`): the
 * same calls the SDK's client makes, with the same connection settings (TEMPORAL_* variables and
 * temporal.toml profiles: address, TLS, API key, gRPC metadata), without loading the SDK.
 *
 * It answers only what it can answer exactly as the SDK would; anything else it reports as
 * `Unsupported`, and the caller asks the SDK instead.
 */

/** This read cannot answer as the SDK would (an unusual ending, encoding or server error). */
export class Unsupported extends Error {
  override name = 'Unsupported';
}

/** No connection to the server could be made: asking the SDK would fail the same way, later. */
export class Unreachable extends Error {
  override name = 'Unreachable';
}

/** The workflow does not exist on the server. */
export class WorkflowMissing extends Error {
  override name = 'WorkflowMissing';
}

export type ExecutionStatus =
  | 'RUNNING'
  | 'COMPLETED'
  | 'FAILED'
  | 'CANCELED'
  | 'TERMINATED'
  | 'CONTINUED_AS_NEW'
  | 'TIMED_OUT'
  | 'PAUSED'
  | 'UNSPECIFIED';

export interface Description {
  status: ExecutionStatus;
  /** When it closed, in ms since the epoch. */
  closeTime?: number;
}

/** A failure as the SDK's failure converter reads it, for the kinds read here. */
export interface FailureView {
  kind: 'application' | 'activity' | 'child';
  message: string;
  /** An application failure's type and details. */
  type?: string;
  details?: unknown[];
  cause?: FailureView;
}

/** How a closed workflow's last run ended. */
export type CloseEvent =
  | { kind: 'completed'; result: unknown }
  | { kind: 'failed'; failure: FailureView }
  | { kind: 'cancelled' }
  | { kind: 'terminated'; reason: string }
  | { kind: 'timed_out' };

interface Timestamp {
  seconds?: number;
  nanos?: number;
}

interface Payload {
  metadata?: Record<string, Buffer>;
  data?: Buffer;
}

interface FailureMessage {
  message?: string;
  cause?: FailureMessage;
  applicationFailureInfo?: { type?: string; details?: { payloads?: Payload[] } };
  activityFailureInfo?: object;
  childWorkflowExecutionFailureInfo?: object;
  encodedAttributes?: Payload;
}

/** The failure and its causes; another kind anywhere in the chain is not read here. */
function failureView(failure: FailureMessage): FailureView {
  // Attributes encoded by a failure converter would need that converter to read.
  if (failure.encodedAttributes) throw new Unsupported('encoded failure attributes');
  const cause = failure.cause ? failureView(failure.cause) : undefined;
  const message = failure.message ?? '';
  const application = failure.applicationFailureInfo;
  if (application)
    return {
      kind: 'application',
      message,
      // The SDK reads an absent type as the protocol's default, an empty string.
      type: application.type ?? '',
      details: (application.details?.payloads ?? []).map(decodePayload),
      cause,
    };
  if (failure.activityFailureInfo) return { kind: 'activity', message, cause };
  if (failure.childWorkflowExecutionFailureInfo) return { kind: 'child', message, cause };
  throw new Unsupported('a failure of another kind');
}

const DEFAULT_PORT = 7233;
/** As the SDK's connect timeout: a call that hears nothing for this long gives up. */
const CALL_TIMEOUT_MS = 10_000;
const http2Constants = () => (require('node:http2') as typeof Http2).constants;
/** gRPC status codes. */
const NOT_FOUND = 5;

/** `host` without a port gets Temporal's; `host:port` and `[v6]:port` are kept. */
export function grpcTarget(address: string | undefined): string {
  const target = address ?? `localhost:${DEFAULT_PORT}`;
  if (/^\[[^\]]+\]:\d+$/.test(target) || /^[^:]+:\d+$/.test(target)) return target;
  if (/^\[[^\]]+\]$/.test(target) || /^[^:]+$/.test(target)) return `${target}:${DEFAULT_PORT}`;
  throw new Unsupported(`address ${target} is not host:port`);
}

/** A payload of the SDK's default converter: JSON, or nothing. Others (a codec's) are not read here. */
export function decodePayload(payload: Payload | undefined): unknown {
  if (!payload) return undefined;
  const encoding = payload.metadata?.encoding?.toString();
  if (encoding === 'binary/null') return undefined;
  if (encoding === 'json/plain') return JSON.parse((payload.data ?? Buffer.alloc(0)).toString('utf8'));
  throw new Unsupported(`payload encoding ${encoding ?? '(none)'}`);
}

function millis(timestamp: Timestamp | undefined): number | undefined {
  if (!timestamp || (!timestamp.seconds && !timestamp.nanos)) return undefined;
  return Number(timestamp.seconds ?? 0) * 1000 + Math.floor((timestamp.nanos ?? 0) / 1e6);
}

/** gRPC's frame: a compression flag, the length, the message. */
function frame(message: Uint8Array): Buffer {
  const framed = Buffer.alloc(5 + message.length);
  framed.writeUInt32BE(message.length, 1);
  framed.set(message, 5);
  return framed;
}

/** The one message of a unary call's response frames. */
function unframe(body: Buffer): Buffer {
  if (body.length < 5) throw new Unsupported('a response without a message');
  if (body[0] !== 0) throw new Unsupported('a compressed response');
  return body.subarray(5, 5 + body.readUInt32BE(1));
}

/** A failed call: gRPC's status code and message, as the server sent them. */
export class GrpcError extends Error {
  override name = 'GrpcError';
  constructor(
    readonly code: number,
    details: string,
  ) {
    super(`${code} ${details}`);
  }
}

/**
 * Unary gRPC calls over Node's own HTTP/2 client: a request is one framed message with the
 * service's path, the answer one framed message and a status in the trailers.
 */
class GrpcChannel {
  private constructor(
    private readonly session: Http2.ClientHttp2Session,
    private readonly headers: Http2.OutgoingHttpHeaders,
  ) {}

  static open(
    target: string,
    headers: Record<string, string>,
    tls?: { ca?: Buffer; key?: Buffer; cert?: Buffer; servername?: string },
  ): GrpcChannel {
    const http2 = require('node:http2') as typeof Http2;
    const session = tls
      ? http2.connect(`https://${target}`, {
          ...(tls.ca ? { ca: tls.ca } : {}),
          ...(tls.key && tls.cert ? { key: tls.key, cert: tls.cert } : {}),
          ...(tls.servername ? { servername: tls.servername } : {}),
        })
      : http2.connect(`http://${target}`);
    const authority = tls?.servername ? { ':authority': tls.servername } : {};
    const channel = new GrpcChannel(session, { ...headers, ...authority });
    session.once('connect', () => (channel.connected = true));
    // Errors reach the calls in flight; a session error with none in flight has nobody to tell.
    session.on('error', () => undefined);
    return channel;
  }

  /** Whether the connection (and its TLS handshake) was made. */
  private connected = false;

  close(): void {
    this.session.close();
  }

  unary(path: string, message: Uint8Array): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      const stream = this.session.request({
        ...this.headers,
        ':method': 'POST',
        ':path': path,
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      const chunks: Buffer[] = [];
      let status: { code: number; message: string } | undefined;
      const readStatus = (headers: Http2.IncomingHttpHeaders) => {
        const code = headers['grpc-status'];
        if (code === undefined) return;
        const text = headers['grpc-message'];
        status = {
          code: Number(code),
          message: decodeURIComponent(Array.isArray(text) ? text.join(',') : (text ?? '')),
        };
      };
      stream.on('response', (headers) => {
        const http = headers[':status'];
        if (http !== 200) reject(new Unsupported(`HTTP status ${http} from the server`));
        readStatus(headers);
      });
      stream.on('trailers', readStatus);
      // A server that never answers (packets dropped) must not hold a terminal forever.
      stream.setTimeout(CALL_TIMEOUT_MS, () => {
        stream.close(http2Constants().NGHTTP2_CANCEL);
        const silence = `no answer within ${CALL_TIMEOUT_MS / 1000} s`;
        reject(this.connected ? new Unsupported(silence) : new Unreachable(silence));
      });
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', (err) => reject(this.connected ? err : new Unreachable(err.message)));
      stream.on('end', () => {
        if (!status) return reject(new Unsupported('a response without a gRPC status'));
        if (status.code !== 0) return reject(new GrpcError(status.code, status.message));
        try {
          resolve(unframe(Buffer.concat(chunks)));
        } catch (err) {
          reject(err);
        }
      });
      stream.end(frame(message));
    });
  }
}

interface HistoryEvent {
  workflowExecutionCompletedEventAttributes?: {
    result?: { payloads?: Payload[] };
    newExecutionRunId?: string;
  };
  workflowExecutionFailedEventAttributes?: { failure?: FailureMessage; newExecutionRunId?: string };
  workflowExecutionTimedOutEventAttributes?: { newExecutionRunId?: string };
  workflowExecutionTerminatedEventAttributes?: { reason?: string };
  workflowExecutionCanceledEventAttributes?: object;
}

/** How the close event of a run ended it, as the SDK's `result()` reads it. */
export function readCloseEvent(event: HistoryEvent): CloseEvent {
  const completed = event.workflowExecutionCompletedEventAttributes;
  if (completed && !completed.newExecutionRunId)
    return { kind: 'completed', result: decodePayload(completed.result?.payloads?.[0]) };
  const failed = event.workflowExecutionFailedEventAttributes;
  if (failed?.failure && !failed.newExecutionRunId)
    return { kind: 'failed', failure: failureView(failed.failure) };
  if (event.workflowExecutionCanceledEventAttributes) return { kind: 'cancelled' };
  const terminated = event.workflowExecutionTerminatedEventAttributes;
  if (terminated) return { kind: 'terminated', reason: terminated.reason ?? '' };
  const timedOut = event.workflowExecutionTimedOutEventAttributes;
  if (timedOut && !timedOut.newExecutionRunId) return { kind: 'timed_out' };
  // Continued as new, or run again by a retry policy or a cron schedule: the SDK follows the runs.
  throw new Unsupported('the workflow went on in another run');
}

export class LeanWorkflowReader {
  private constructor(
    private readonly channel: GrpcChannel,
    readonly namespace: string,
  ) {}

  /** A reader with the connection settings the SDK's client would use; no round trip yet. */
  static open(): LeanWorkflowReader {
    const { connectionOptions, namespace } = temporalSettings();
    const { address, apiKey, tls, metadata } = connectionOptions;
    const headers: Record<string, string> = { ...metadata, 'temporal-namespace': namespace };
    if (apiKey) headers.authorization = `Bearer ${apiKey}`;
    // As the SDK: TLS when configured, or by default with an API key.
    const secure = tls === undefined ? apiKey !== undefined : tls !== false && tls !== null;
    const settings = typeof tls === 'object' && tls !== null ? tls : {};
    const pair = settings.clientCertPair;
    const channel = GrpcChannel.open(
      grpcTarget(address),
      headers,
      secure
        ? {
            ca: settings.serverRootCACertificate ? Buffer.from(settings.serverRootCACertificate) : undefined,
            key: pair?.key ? Buffer.from(pair.key) : undefined,
            cert: pair?.crt ? Buffer.from(pair.crt) : undefined,
            servername: settings.serverNameOverride,
          }
        : undefined,
    );
    return new LeanWorkflowReader(channel, namespace);
  }

  close(): void {
    this.channel.close();
  }

  async describe(workflowId: string): Promise<Description> {
    const response = await this.call<{ workflowExecutionInfo?: { status?: string; closeTime?: Timestamp } }>(
      'DescribeWorkflowExecution',
      { namespace: this.namespace, execution: { workflowId } },
    );
    const info = response.workflowExecutionInfo;
    const status = (info?.status ?? 'WORKFLOW_EXECUTION_STATUS_UNSPECIFIED').replace(
      'WORKFLOW_EXECUTION_STATUS_',
      '',
    ) as ExecutionStatus;
    return { status, closeTime: millis(info?.closeTime) };
  }

  /** The answer of a query without arguments. */
  async query(workflowId: string, queryType: string): Promise<unknown> {
    const response = await this.call<{ queryResult?: { payloads?: Payload[] }; queryRejected?: object }>(
      'QueryWorkflow',
      { namespace: this.namespace, execution: { workflowId }, query: { queryType } },
    );
    if (response.queryRejected) throw new Unsupported('query rejected');
    return decodePayload(response.queryResult?.payloads?.[0]);
  }

  /** How the workflow's latest run ended; it must have closed. */
  async closeEvent(workflowId: string): Promise<CloseEvent> {
    let nextPageToken: Buffer | undefined;
    for (let page = 0; page < 10; page++) {
      const response = await this.call<{ history?: { events?: HistoryEvent[] }; nextPageToken?: Buffer }>(
        'GetWorkflowExecutionHistory',
        {
          namespace: this.namespace,
          execution: { workflowId },
          nextPageToken,
          waitNewEvent: true,
          historyEventFilterType: 'HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT',
          skipArchival: true,
        },
      );
      const [event] = response.history?.events ?? [];
      if (event) return readCloseEvent(event);
      nextPageToken = response.nextPageToken;
    }
    throw new Unsupported('no close event');
  }

  private async call<T>(method: string, request: object): Promise<T> {
    const service = 'temporal.api.workflowservice.v1';
    let bytes: Buffer;
    try {
      bytes = await this.channel.unary(
        `/${WORKFLOW_SERVICE}/${method}`,
        encodeMessage(`${service}.${method}Request`, request),
      );
    } catch (err) {
      throw err instanceof GrpcError && err.code === NOT_FOUND ? new WorkflowMissing(err.message) : err;
    }
    return decodeMessage<T>(`${service}.${method}Response`, bytes);
  }
}
