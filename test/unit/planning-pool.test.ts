import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { mapWithConcurrency } from '../../src/planning/pool';

describe('mapWithConcurrency', () => {
  test('keeps input order and never exceeds the limit', async () => {
    let running = 0;
    let most = 0;
    const results = await mapWithConcurrency([5, 1, 4, 2, 3, 0, 2], 3, async (delay, index) => {
      running += 1;
      most = Math.max(most, running);
      await sleep(delay);
      running -= 1;
      return index * 10;
    });
    assert.deepEqual(results, [0, 10, 20, 30, 40, 50, 60]);
    assert.equal(most, 3);
  });

  test('rethrows the first failure and starts nothing after it', async () => {
    const started: number[] = [];
    await assert.rejects(
      mapWithConcurrency([1, 2, 3, 4, 5], 1, async (n) => {
        started.push(n);
        if (n === 2) throw new Error('boom');
        return n;
      }),
      /boom/,
    );
    assert.deepEqual(started, [1, 2]);
  });

  test('an empty list', async () => {
    assert.deepEqual(await mapWithConcurrency([], 4, async () => 1), []);
  });
});
