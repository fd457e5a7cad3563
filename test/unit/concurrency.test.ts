import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { mapWithConcurrency } from '../../src/concurrency';

describe('concurrency', () => {
  test('mapWithConcurrency keeps input order and never exceeds the limit', async () => {
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

  test('mapWithConcurrency rethrows the first failure and starts nothing after it', async () => {
    const started: number[] = [];
    await assert.rejects(
      mapWithConcurrency([1, 2, 3, 4, 5], 2, async (n) => {
        started.push(n);
        await sleep(n === 2 ? 0 : 5);
        if (n === 2) throw new Error('boom');
        return n;
      }),
      /boom/,
    );
    await sleep(20);
    assert.deepEqual(started, [1, 2]);
  });

  test('mapWithConcurrency reads an async source only as calls finish', async () => {
    let read = 0;
    async function* numbers() {
      for (let n = 0; n < 6; n++) {
        read += 1;
        yield n;
      }
    }
    let running = 0;
    let most = 0;
    let readAhead = 0;
    const results = await mapWithConcurrency(numbers(), 2, async (n) => {
      running += 1;
      most = Math.max(most, running);
      readAhead = Math.max(readAhead, read - n);
      await sleep(2);
      running -= 1;
      return n * n;
    });
    assert.deepEqual(results, [0, 1, 4, 9, 16, 25]);
    assert.equal(most, 2);
    assert.ok(readAhead <= 2, `read ${readAhead} ahead`);
  });

  test('mapWithConcurrency rethrows a failure of the source', async () => {
    async function* failing() {
      yield 1;
      throw new Error('listing failed');
    }
    await assert.rejects(
      mapWithConcurrency(failing(), 3, async (n) => n),
      /listing failed/,
    );
  });

  test('mapWithConcurrency over an empty list', async () => {
    assert.deepEqual(await mapWithConcurrency([], 4, async () => 1), []);
  });
});
