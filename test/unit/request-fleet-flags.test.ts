import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InputError } from '../../src/errors';
import { fairnessKeyOf, notifyUrlOf, priorityOf } from '../../src/request/fleet-flags';

const refused = (run: () => unknown, ...parts: string[]) =>
  assert.throws(
    run,
    (err: Error) => err instanceof InputError && parts.every((p) => err.message.includes(p)),
  );

describe('fleet flags', () => {
  test('priorityOf: 1 to 5, the fallback when not given', () => {
    assert.equal(priorityOf({}), 3);
    assert.equal(priorityOf({}, 0), 0);
    assert.equal(priorityOf({ priority: ' 5 ' }), 5);
    refused(() => priorityOf({ priority: '7' }), '--priority', 'from 1 (runs first) to 5', '"7"');
  });

  test('fairnessKeyOf: at most 64 bytes given, the fallback cut to them', () => {
    assert.equal(fairnessKeyOf({ fairness_key: 'lab-a' }, 'ada'), 'lab-a');
    assert.equal(fairnessKeyOf({}, 'ada'), 'ada');
    assert.equal(Buffer.byteLength(fairnessKeyOf({}, 'é'.repeat(40))), 64);
    refused(() => fairnessKeyOf({ fairness_key: 'é'.repeat(33) }, 'ada'), '--fairness_key', '66');
  });

  test('notifyUrlOf: the flag, else ANALYSIS_NOTIFY_URL; a bad one is named, never repeated', () => {
    const token = 'T0KEN-s3cr3t';
    assert.equal(notifyUrlOf({}, {}), undefined);
    assert.equal(
      notifyUrlOf({ notify: `https://hooks.example.org/services/${token}` }, {}),
      `https://hooks.example.org/services/${token}`,
    );
    assert.equal(notifyUrlOf({}, { ANALYSIS_NOTIFY_URL: 'http://127.0.0.1:9/x' }), 'http://127.0.0.1:9/x');
    assert.equal(
      notifyUrlOf({ notify: 'http://a.example/1' }, { ANALYSIS_NOTIFY_URL: 'http://b.example/2' }),
      'http://a.example/1',
    );
    for (const [options, env, source] of [
      [{ notify: `ftp://hooks.example.org/${token}` }, {}, '--notify'],
      [{ notify: `hooks.example.org/${token}` }, {}, '--notify'],
      [{}, { ANALYSIS_NOTIFY_URL: `file:///tmp/${token}` }, 'ANALYSIS_NOTIFY_URL'],
    ] as const) {
      assert.throws(
        () => notifyUrlOf(options, env),
        (err: Error) =>
          err instanceof InputError &&
          err.message.startsWith(`${source} must be an http:// or https:// URL`) &&
          !err.message.includes(token),
      );
    }
  });
});
