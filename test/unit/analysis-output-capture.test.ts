import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { runProgram } from '../../src/analysis/command';
import { LOG_FILE_BYTES, OutputCapture, TAIL_BYTES, TailBuffer } from '../../src/analysis/output-capture';
import { projectRoot } from '../../src/analysis/paths';
import { ErrorType } from '../../src/errors';

const MIB = 1024 * 1024;
const CHATTY = join(projectRoot(), 'test/fixtures/commands/chatty.mjs');
const FINAL_LINES = Array.from({ length: 30 }, (_, i) => `final stderr line ${i + 1}`);

/** `mib` MiB of numbered lines in pipe-sized chunks, each a new buffer, then the final lines. */
async function* chatter(mib: number): AsyncGenerator<Buffer> {
  const chunk = 64 * 1024;
  const line = (n: number) => `line ${String(n).padStart(9, '0')} ${'x'.repeat(48)}\n`; // 64 bytes
  let n = 0;
  for (let sent = 0; sent < mib * MIB; sent += chunk) {
    const lines: string[] = [];
    for (let k = 0; k < chunk / 64; k++) lines.push(line(n++));
    yield Buffer.from(lines.join(''));
  }
  yield Buffer.from(FINAL_LINES.map((text) => `${text}\n`).join(''));
}

/** The largest growth of this process's resident memory while `work` runs, in MiB. */
async function rssGrowth(work: () => Promise<unknown>): Promise<number> {
  const start = process.memoryUsage.rss();
  let peak = start;
  const look = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  try {
    await work();
  } finally {
    clearInterval(look);
  }
  return (Math.max(peak, process.memoryUsage.rss()) - start) / MIB;
}

void describe('analysis/output-capture', () => {
  let scratch: string;
  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'capture-'));
  });
  after(() => rm(scratch, { recursive: true, force: true }));

  void test('TailBuffer keeps the last bytes and lines of 300 MB, whole lines only', () => {
    const tail = new TailBuffer();
    let total = 0;
    const chunk = Buffer.alloc(64 * 1024, 'y');
    for (let i = 0; i < 300 * 16; i++) {
      tail.push(chunk);
      total += chunk.length;
    }
    const last = Buffer.from(FINAL_LINES.map((text) => `${text}\n`).join(''));
    tail.push(last);
    assert.equal(tail.total, total + last.length);
    assert.equal(tail.bytes().length, TAIL_BYTES);
    assert.ok(tail.bytes().toString().endsWith('final stderr line 30\n'));
    assert.deepEqual(tail.lines(), FINAL_LINES.slice(-20));
  });

  void test('TailBuffer drops the cut first line and cuts long lines', () => {
    const tail = new TailBuffer(16);
    tail.push(Buffer.from('abcdefgh\nijkl\nmnop\n'));
    assert.deepEqual(tail.lines(), ['ijkl', 'mnop'], 'the fragment "gh" is not a line');
    const long = new TailBuffer();
    long.push(Buffer.from(`${'z'.repeat(2000)}\nshort\n`));
    assert.deepEqual(long.lines(), [`${'z'.repeat(499)}…`, 'short']);
    assert.deepEqual(new TailBuffer().lines(), []);
  });

  void test('OutputCapture writes the head, a line counting what was dropped, then the tail', async () => {
    const path = join(scratch, 'small.log');
    const capture = new OutputCapture(path, 100, 50);
    const text = Array.from({ length: 40 }, (_, i) => `${String(i).padStart(4, '0')}\n`).join(''); // 200 bytes
    await pipeline(Readable.from([Buffer.from(text)]), capture);
    assert.equal(
      readFileSync(path, 'utf8'),
      `${text.slice(0, 100)}\n[... 50 bytes not kept; the last 50 follow ...]\n${text.slice(150)}`,
    );

    const whole = join(scratch, 'whole.log');
    await pipeline(Readable.from([Buffer.from(text.slice(0, 120))]), new OutputCapture(whole, 100, 50));
    assert.equal(
      readFileSync(whole, 'utf8'),
      text.slice(0, 120),
      'nothing lost when the tail covers the rest',
    );
  });

  void test('OutputCapture: 300 MB through it cost bounded memory and a bounded log file', async () => {
    const path = join(scratch, 'chatty.log');
    const capture = new OutputCapture(path);
    const growth = await rssGrowth(() => pipeline(Readable.from(chatter(300)), capture));
    assert.ok(growth < 100, `resident memory grew by ${growth.toFixed(0)} MiB`);
    const total = 300 * MIB + FINAL_LINES.join('\n').length + 1;
    assert.equal(capture.tail.total, total);
    const size = statSync(path).size;
    assert.ok(size <= LOG_FILE_BYTES + TAIL_BYTES + 100, `log file of ${size} bytes`);
    const log = readFileSync(path, 'latin1');
    assert.ok(log.startsWith('line 000000000 '), 'the head is kept');
    assert.ok(log.endsWith('final stderr line 30\n'), 'the tail is kept');
    assert.match(
      log,
      new RegExp(
        `\\[\\.\\.\\. ${total - LOG_FILE_BYTES - TAIL_BYTES} bytes not kept; the last ${TAIL_BYTES} follow`,
      ),
    );
  });

  const chatty = (mib: number, code: number, name: string) =>
    runProgram({
      program: process.execPath,
      args: [CHATTY, String(mib), String(code)],
      cwd: scratch,
      env: { PATH: process.env.PATH ?? '' },
      stdoutPath: join(scratch, `${name}.stdout.log`),
      stderrPath: join(scratch, `${name}.stderr.log`),
      signal: new AbortController().signal,
      heartbeat: () => undefined,
      log: () => undefined,
    });

  void test('a program writing 2 x 200 MB finishes; the worker holds bounded memory and logs', async () => {
    let result: Awaited<ReturnType<typeof chatty>> | undefined;
    const growth = await rssGrowth(async () => (result = await chatty(200, 0, 'ok')));
    assert.ok(growth < 100, `resident memory grew by ${growth.toFixed(0)} MiB`);
    assert.deepEqual(result?.stderrTail, FINAL_LINES.slice(-20));
    for (const stream of ['stdout', 'stderr']) {
      const size = statSync(join(scratch, `ok.${stream}.log`)).size;
      assert.ok(size <= LOG_FILE_BYTES + TAIL_BYTES + 100, `${stream} log of ${size} bytes`);
    }
  });

  void test("a chatty program that fails: the error holds only its stderr's last lines", async () => {
    await assert.rejects(chatty(50, 3, 'failing'), (err: unknown) => {
      assert.ok(err instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(err)}`);
      assert.equal(err.type, ErrorType.AnalysisFailed);
      assert.match(err.message, /exited with code 3 after \d+ s; stderr:\n/);
      assert.ok(err.message.endsWith(FINAL_LINES.slice(-20).join('\n')), err.message.slice(-300));
      assert.doesNotMatch(err.message, /final stderr line 10\n/);
      assert.ok(err.message.length < 1_000, `a message of ${err.message.length} characters`);
      return true;
    });
  });
});
