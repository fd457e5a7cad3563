import { temporalSettings } from '../temporal';
import { GrpcChannel, GrpcError, Unsupported, type ChannelLimits } from './channel';
import { decodeMessage, encodeMessage } from './messages';

/**
 * A few reads of one workflow over plain gRPC, for commands a user types often (`status`): the
 * same calls the SDK's client makes, with the same connection settings (TEMPORAL_* variables and
 * temporal.toml profiles: address, TLS, API key, gRPC metadata), without loading the SDK.
 *
 * It answers only what it can answer exactly as the SDK would. Anything else fails (`Unsupported`
 * for an answer it does not read, `Unreachable` for a connection it could not make, a `GrpcError`
 * for a server error), and the caller asks the SDK instead.
 */

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
const LIMITS: ChannelLimits = {
  // Short, because a connection that fails goes to the SDK, which tries again for its own 10 s.
  connectMs: 3_000,
  // As the SDK's connect timeout: reads that take longer go to the SDK.
  totalMs: 10_000,
  // Far above what `status` reads; a bigger answer goes to the SDK, which takes up to 128 MiB.
  maxResponseBytes: 4 * 2 ** 20,
};
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

/**
 * The proxy variables the SDK's transport (grpc-js) reads. It also reads `no_grpc_proxy` and
 * `no_proxy` to exempt some hosts; rather than repeat those rules, any proxy variable sends the
 * reads to the SDK, which then connects exactly as it always does.
 */
const PROXY_VARIABLES = ['grpc_proxy', 'https_proxy', 'http_proxy'];

export function proxyConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return PROXY_VARIABLES.some((name) => Boolean(env[name]));
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

export class WorkflowReader {
  private constructor(
    private readonly channel: GrpcChannel,
    readonly namespace: string,
  ) {}

  /**
   * A reader with the connection settings the SDK's client would use; no round trip yet.
   * Undefined when a proxy is configured: the SDK's transport honours it, this one does not.
   */
  static open(): WorkflowReader | undefined {
    if (proxyConfigured()) return undefined;
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
      LIMITS,
    );
    return new WorkflowReader(channel, namespace);
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
        `/${service}.WorkflowService/${method}`,
        encodeMessage(`${service}.${method}Request`, request),
      );
    } catch (err) {
      throw err instanceof GrpcError && err.code === NOT_FOUND ? new WorkflowMissing(err.message) : err;
    }
    return decodeMessage<T>(`${service}.${method}Response`, bytes);
  }
}
