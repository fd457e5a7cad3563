import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  checkScheduleId,
  formatSeconds,
  parseEvery,
  scheduleTiming,
  specText,
} from '../../src/client/schedule/spec';
import { InputError } from '../../src/errors';

describe('schedule-spec', () => {
  test('checkScheduleId accepts plain names and refuses the rest', () => {
    assert.equal(checkScheduleId('nightly-unit.yield_2'), 'nightly-unit.yield_2');
    for (const bad of ['', '-x', 'a b', 'a/b', 'x'.repeat(101)])
      assert.throws(() => checkScheduleId(bad), InputError);
  });

  test('parseEvery reads 90s, 15m, 1h30m, 2d', () => {
    assert.equal(parseEvery('90s'), 90);
    assert.equal(parseEvery('15m'), 900);
    assert.equal(parseEvery('1h 30m'), 5400);
    assert.equal(parseEvery('2D'), 172800);
    for (const bad of ['', '1', 'h', '1w', '0s', '-1h'])
      assert.throws(() => parseEvery(bad), InputError, bad);
  });

  test('formatSeconds writes the largest units first', () => {
    assert.equal(formatSeconds(5400), '1h30m');
    assert.equal(formatSeconds(86400 + 5), '1d5s');
    assert.equal(formatSeconds(0), '0s');
  });

  test('scheduleTiming needs exactly one of --cron and --every', () => {
    assert.deepEqual(scheduleTiming({ cron: ' 0 3 * * * ' }), {
      spec: { cronExpressions: ['0 3 * * *'] },
      text: 'cron "0 3 * * *"',
    });
    assert.deepEqual(scheduleTiming({ every: '1h' }), {
      spec: { intervals: [{ every: 3_600_000 }] },
      text: 'every 1h',
    });
    assert.equal(scheduleTiming({ cron: '@daily' }).text, 'cron "@daily"');
    assert.equal(
      scheduleTiming({ cron: 'CRON_TZ=Europe/Berlin 0 3 * * * # nightly' }).spec.cronExpressions?.length,
      1,
    );
    assert.throws(() => scheduleTiming({}), /--cron .* or --every/);
    assert.throws(() => scheduleTiming({ cron: '0 3 * * *', every: '1h' }), /not both/);
    assert.throws(() => scheduleTiming({ cron: 'every day' }), /expected 5 fields/);
  });

  test("--interval is the Temporal CLI's name for --every, with an optional phase offset", () => {
    assert.deepEqual(scheduleTiming({ interval: '1h' }), scheduleTiming({ every: '1h' }));
    assert.deepEqual(scheduleTiming({ interval: '1h/15m' }), {
      spec: { intervals: [{ every: 3_600_000, offset: 900_000 }] },
      text: 'every 1h (offset 15m)',
    });
    assert.deepEqual(scheduleTiming({ every: '2h', interval: '2h' }).text, 'every 2h');
    assert.throws(() => scheduleTiming({ every: '1h', interval: '2h' }), /one flag under two names/);
    assert.throws(() => scheduleTiming({ cron: '0 3 * * *', interval: '1h' }), /--cron or --interval/);
    assert.throws(() => scheduleTiming({ interval: 'often' }), /--interval "often"/);
    assert.throws(() => scheduleTiming({ interval: '1h/1h' }), /offset must be shorter/);
    assert.throws(() => scheduleTiming({ interval: '1h/5m/1m' }), /INTERVAL\/OFFSET/);
  });

  test('specText prefers the text saved at create time', () => {
    assert.equal(specText(undefined, { spec: 'cron "0 3 * * *"' }), 'cron "0 3 * * *"');
    assert.equal(specText({ intervals: [{ every: 1_800_000, offset: 0 }] }, undefined), 'every 30m');
    assert.equal(specText({}, {}), 'none');
  });
});
