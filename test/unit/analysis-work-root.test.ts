import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { ensureWorkRoot } from '../../src/analysis/work-root';

describe('analysis/work-root', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'work-root-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  const refused = (pattern: RegExp) => (err: unknown) =>
    err instanceof ApplicationFailure &&
    err.type === 'UnsafeWorkRoot' &&
    err.nonRetryable &&
    pattern.test(err.message);

  test('ensureWorkRoot makes the folder private, tightens one of its own, and refuses a link or one others may write', async () => {
    const fresh = join(scratch, 'a', 'b');
    await ensureWorkRoot(fresh);
    assert.equal(statSync(fresh).mode & 0o777, 0o700);

    const readable = join(scratch, 'readable');
    mkdirSync(readable, { mode: 0o755 });
    chmodSync(readable, 0o755);
    await ensureWorkRoot(readable);
    assert.equal(statSync(readable).mode & 0o777, 0o700);

    const target = join(scratch, 'target');
    mkdirSync(target);
    symlinkSync(target, join(scratch, 'link'));
    await assert.rejects(ensureWorkRoot(join(scratch, 'link')), refused(/is not a folder \(a symlink\?\)/));
    const open = join(scratch, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    await assert.rejects(ensureWorkRoot(open), refused(/may be written by others \(mode 777\)/));
    assert.deepEqual(readdirSync(target), []);
  });
});
