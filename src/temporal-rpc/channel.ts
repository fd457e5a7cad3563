import * as Http2 from 'node:http2';

/**
 * Unary gRPC calls over Node's own HTTP/2 client: a request is one framed message on the method's
 * path, the answer one framed message and a status in the trailers. This is the transport alone;
 * the messages are encoded by protobufjs (messages.ts).
 */

/** No connection to the server could be made (refused, unresolved, a failed TLS handshake). */
export class Unreachable extends Error {
  override name = 'Unreachable';
  constructor(
    message: string,
    /** The system's error code, when the connection was refused outright (`ECONNREFUSED`). */
    readonly code?: string,
  ) {
    super(message);
  }
}

/** The server answered in a way these calls do not read (too big, compressed, not gRPC, too slow). */
export class Unsupported extends Error {
  override name = 'Unsupported';
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

export interface ChannelTls {
  ca?: Buffer;
  key?: Buffer;
  cert?: Buffer;
  servername?: string;
}

export interface ChannelLimits {
  /** How long making the connection may take, its TLS handshake included. */
  connectMs: number;
  /** How long the channel may be used, from its opening: every call must end by then. */
  totalMs: number;
  /** The largest response accepted. */
  maxResponseBytes: number;
}

/**
 * `grpc-message` as gRPC percent-encodes it. Read byte by byte, so that a message that is not
 * percent-encoded as it should be (a bare `%`) still reads, as it was sent.
 */
export function decodeGrpcMessage(text: string): string {
  if (!text.includes('%')) return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const hex = text.slice(i + 1, i + 3);
    if (text[i] === '%' && /^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else bytes.push(...Buffer.from(text[i]!, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** gRPC's frame: a compression flag, the length, the message. */
function frame(message: Uint8Array): Buffer {
  const framed = Buffer.alloc(5 + message.length);
  framed.writeUInt32BE(message.length, 1);
  framed.set(message, 5);
  return framed;
}

/** The one message of a unary call's response. */
function unframe(body: Buffer): Buffer {
  if (body.length < 5) throw new Unsupported('a response without a message');
  if (body[0] !== 0) throw new Unsupported('a compressed response');
  const length = body.readUInt32BE(1);
  if (body.length < 5 + length) throw new Unsupported('a response cut short');
  return body.subarray(5, 5 + length);
}

/** A failed connection as the system said it: a stream it cancelled carries it as its cause. */
function unreachable(err: Error): Unreachable {
  const failure = (err as { cause?: NodeJS.ErrnoException }).cause ?? (err as NodeJS.ErrnoException);
  return new Unreachable(failure.message, failure.code);
}

export class GrpcChannel {
  /** Whether the connection (and its TLS handshake) was made. */
  private connected = false;
  private readonly deadline: number;
  private readonly connectTimer: NodeJS.Timeout;

  private constructor(
    private readonly session: Http2.ClientHttp2Session,
    private readonly headers: Http2.OutgoingHttpHeaders,
    private readonly limits: ChannelLimits,
  ) {
    this.deadline = Date.now() + limits.totalMs;
    session.once('connect', () => {
      this.connected = true;
      clearTimeout(this.connectTimer);
    });
    // A server that never completes the connection (packets dropped) must not hold a terminal.
    this.connectTimer = setTimeout(
      () => session.destroy(new Unreachable(`no connection within ${limits.connectMs / 1000} s`)),
      limits.connectMs,
    );
    // Errors reach the calls in flight; a session error with none in flight has nobody to tell.
    session.on('error', () => undefined);
  }

  static open(
    target: string,
    headers: Record<string, string>,
    tls: ChannelTls | undefined,
    limits: ChannelLimits,
  ): GrpcChannel {
    const session = tls
      ? Http2.connect(`https://${target}`, {
          ...(tls.ca ? { ca: tls.ca } : {}),
          ...(tls.key && tls.cert ? { key: tls.key, cert: tls.cert } : {}),
          ...(tls.servername ? { servername: tls.servername } : {}),
        })
      : Http2.connect(`http://${target}`);
    const authority = tls?.servername ? { ':authority': tls.servername } : {};
    return new GrpcChannel(session, { ...headers, ...authority }, limits);
  }

  close(): void {
    clearTimeout(this.connectTimer);
    this.session.close();
  }

  unary(path: string, message: Uint8Array): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      const fail = (err: Error) => {
        reject(err);
        if (!stream.closed) stream.close(Http2.constants.NGHTTP2_CANCEL);
      };
      const remaining = this.deadline - Date.now();
      if (remaining <= 0) return reject(new Unsupported('out of time'));
      const stream = this.session.request({
        ...this.headers,
        ':method': 'POST',
        ':path': path,
        'content-type': 'application/grpc',
        te: 'trailers',
      });
      const timer = setTimeout(() => {
        const silence = `no answer within ${this.limits.totalMs / 1000} s`;
        fail(this.connected ? new Unsupported(silence) : new Unreachable(silence));
      }, remaining);
      stream.once('close', () => clearTimeout(timer));
      const chunks: Buffer[] = [];
      let received = 0;
      let status: { code: number; message: string } | undefined;
      const readStatus = (headers: Http2.IncomingHttpHeaders) => {
        const code = headers['grpc-status'];
        if (code === undefined) return;
        const text = headers['grpc-message'];
        status = {
          code: Number(code),
          message: decodeGrpcMessage(Array.isArray(text) ? text.join(',') : (text ?? '')),
        };
      };
      stream.on('response', (headers) => {
        const http = headers[':status'];
        if (http !== 200) return fail(new Unsupported(`HTTP status ${http} from the server`));
        readStatus(headers);
      });
      stream.on('trailers', readStatus);
      stream.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > this.limits.maxResponseBytes)
          return fail(new Unsupported(`a response of more than ${this.limits.maxResponseBytes} bytes`));
        chunks.push(chunk);
      });
      stream.on('error', (err) => fail(this.connected ? err : unreachable(err)));
      stream.on('end', () => {
        if (!status) return fail(new Unsupported('a response without a gRPC status'));
        if (status.code !== 0) return fail(new GrpcError(status.code, status.message));
        try {
          resolve(unframe(Buffer.concat(chunks)));
        } catch (err) {
          reject(err as Error);
        }
      });
      stream.end(frame(message));
    });
  }
}
