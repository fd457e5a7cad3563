import { createWriteStream, type WriteStream } from 'node:fs';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';

/** Bytes of each stream kept in memory for the error message and the worker's log. */
export const TAIL_BYTES = 64 * 1024;
const TAIL_LINES = 20;
/** A line longer than this (minified code, a progress bar without newlines) is cut. */
const TAIL_LINE_CHARS = 500;
/** Bytes of each stream written to its log file before the rest is dropped, all but the tail. */
export const LOG_FILE_BYTES = 16 * 1024 * 1024;

/** Keeps the last `capacity` bytes of a stream, however much it writes. */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private kept = 0;
  /** Bytes pushed in all. */
  total = 0;

  constructor(private readonly capacity = TAIL_BYTES) {}

  push(chunk: Buffer): void {
    this.total += chunk.length;
    this.chunks.push(chunk);
    this.kept += chunk.length;
    // Whole chunks go once the rest still fills the tail; the buffer never holds more than the
    // capacity plus one chunk.
    while (this.chunks.length > 1 && this.kept - this.chunks[0]!.length >= this.capacity)
      this.kept -= this.chunks.shift()!.length;
  }

  bytes(): Buffer {
    const all = Buffer.concat(this.chunks, this.kept);
    return all.subarray(Math.max(0, all.length - this.capacity));
  }

  /**
   * The last lines, each cut to a few hundred characters. When the start of the stream was dropped,
   * the first line kept is a fragment and goes too (a multi-byte character cut in half with it).
   */
  lines(maxLines = TAIL_LINES, maxChars = TAIL_LINE_CHARS): string[] {
    const bytes = this.bytes();
    let text = bytes.toString('utf8').replace(/\n+$/, '');
    if (this.total > bytes.length) {
      const newline = text.indexOf('\n');
      text = newline === -1 ? text.slice(1) : text.slice(newline + 1);
    }
    if (!text) return [];
    return text
      .split('\n')
      .slice(-maxLines)
      .map((line) => (line.length <= maxChars ? line : `${line.slice(0, maxChars - 1)}…`));
  }
}

/**
 * Where a program's stdout or stderr goes: the first `LOG_FILE_BYTES` to the log file, the last
 * `TAIL_BYTES` kept in memory, the rest dropped, so that a chatty program costs the worker bounded
 * memory and disk. Piped into, it passes the file's backpressure on to the program. When bytes were
 * dropped, the file ends with a line saying how many and then the tail.
 */
export class OutputCapture extends Writable {
  readonly tail: TailBuffer;
  private readonly file: WriteStream;
  private written = 0;
  /** Set when the log file cannot be written: the tail is kept all the same. */
  private broken = false;
  private waiting: (() => void) | undefined;

  constructor(
    path: string,
    private readonly maxFileBytes = LOG_FILE_BYTES,
    tailBytes = TAIL_BYTES,
  ) {
    super();
    this.tail = new TailBuffer(tailBytes);
    this.file = createWriteStream(path);
    // A log that cannot be written (disk full) must neither fail the run nor stall the program.
    this.file.on('error', () => {
      this.broken = true;
      this.waiting?.();
    });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.tail.push(chunk);
    const room = this.maxFileBytes - this.written;
    if (room <= 0 || this.broken) return callback();
    const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
    this.written += part.length;
    if (this.file.write(part)) callback();
    else {
      this.waiting = () => {
        this.waiting = undefined;
        callback();
      };
      this.file.once('drain', this.waiting);
    }
  }

  override _final(callback: (error?: Error | null) => void): void {
    const dropped = this.tail.total - this.written;
    if (dropped > 0 && !this.broken) {
      const tail = this.tail.bytes();
      if (dropped <= tail.length) this.file.write(tail.subarray(tail.length - dropped));
      else {
        this.file.write(
          `\n[... ${dropped - tail.length} bytes not kept; the last ${tail.length} follow ...]\n`,
        );
        this.file.write(tail);
      }
    }
    this.file.end();
    finished(this.file).then(
      () => callback(),
      () => callback(),
    );
  }
}
