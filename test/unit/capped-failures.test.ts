import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MESSAGE_CHARS } from '../../src/problem-list';
import { capFailureMessages } from '../../src/workers/capped-failures';

describe('capped-failures', () => {
  test("an activity's failure reaches Temporal with its message, stack and cause capped", async () => {
    const huge = 'e'.repeat(10 * MESSAGE_CHARS);
    const thrown = ApplicationFailure.create({
      type: 'AnalysisFailed',
      message: huge,
      nonRetryable: true,
      cause: new Error(huge),
    });
    const execute = capFailureMessages().inbound?.execute;
    assert.ok(execute);
    const err = await execute({} as never, async () => {
      throw thrown;
    }).catch((err: unknown) => err);
    assert.equal(err, thrown, 'the same failure, its type and retry decision kept');
    assert.ok(thrown.message.length < MESSAGE_CHARS + 40);
    assert.match(thrown.message, /… \(\d+ more characters\)$/);
    assert.ok((thrown.stack ?? '').length < MESSAGE_CHARS + 40);
    assert.ok((thrown.cause as Error).message.length < MESSAGE_CHARS + 40);
    assert.equal(thrown.type, 'AnalysisFailed');
  });

  test('a result passes through', async () => {
    const execute = capFailureMessages().inbound?.execute;
    assert.equal(await execute?.({} as never, async () => 42), 42);
  });
});
