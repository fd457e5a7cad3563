import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { reportError } from '../../src/client/common';
import { summaryText } from '../../src/client/follow/summary';
import { printable } from '../../src/client/terminal-text';
import { InputError } from '../../src/errors';

describe('client/terminal-text', () => {
  test('printable shows control characters and direction overrides as their codes', () => {
    assert.equal(printable('plain name'), 'plain name');
    assert.equal(printable('\u001b[2J\u001b]0;title\u0007'), '\\x1b[2J\\x1b]0;title\\x07');
    assert.equal(printable('ok\rFAKE'), 'ok\\x0dFAKE');
    assert.equal(printable('a\u202eb\u2066c\u009bd\u007f'), 'a\\u202eb\\u2066c\\x9bd\\x7f');
    assert.equal(printable('two\nlines\tand a tab'), 'two\nlines\tand a tab');
    assert.equal(printable('données ✓'), 'données ✓');
  });

  test('error messages and status lines reach the terminal without escape codes', () => {
    const printed: string[] = [];
    const stderr = console.error;
    console.error = (text: string) => printed.push(text);
    try {
      reportError(new InputError('asset "\u001b[31mred" not found'));
      reportError(new Error('worker said \u001b]8;;http://x\u0007link'));
    } finally {
      console.error = stderr;
    }
    assert.deepEqual(printed, [
      'error: asset "\\x1b[31mred" not found',
      'error: worker said \\x1b]8;;http://x\\x07link',
    ]);
    const line = summaryText({ status: 'failed', error: 'boom\u001b[2K' }, 'd1');
    assert.equal(line, 'dispatch d1 failed: boom\\x1b[2K');
  });
});
