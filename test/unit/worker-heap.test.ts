import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { heapGrowth, holdNewSpace, roomToPlan, tuneHeap, userSizedHeap } from '../../src/workers/heap';

describe('worker heap', () => {
  test('userSizedHeap sees a heap size the user gave on the command line or in NODE_OPTIONS', () => {
    assert.equal(userSizedHeap([], ''), false);
    assert.equal(userSizedHeap(['--enable-source-maps'], '--require tsx/cjs'), false);
    assert.equal(userSizedHeap(['--max-old-space-size=160'], ''), true);
    assert.equal(userSizedHeap(['--max_old_space_size=160'], ''), true);
    assert.equal(userSizedHeap([], '--trace-warnings --max-old-space-size=512'), true);
    assert.equal(userSizedHeap([], '--max-semi-space-size=8'), true);
    assert.equal(userSizedHeap([], '--max-heap-size=300'), true);
    assert.equal(userSizedHeap(['--semi-space-growth-factor=2'], ''), true);
  });

  test('tuneHeap sizes the young generation of a thread started after it, not of the running one', async () => {
    const before = getHeapStatistics().heap_size_limit;
    tuneHeap();
    assert.equal(getHeapStatistics().heap_size_limit, before);
    const thread = new Worker(
      `const { parentPort } = require('node:worker_threads');
       parentPort.postMessage(require('node:v8').getHeapStatistics().heap_size_limit);`,
      { eval: true },
    );
    const [limit] = (await once(thread, 'message')) as [number];
    await thread.terminate();
    // The limit counts three semi-spaces of the young generation: 3 x 4 MiB against 3 x 16 MiB.
    assert.ok(before - limit >= 32 * 1024 * 1024, `thread heap limit ${limit}, main ${before}`);
  });

  test("holdNewSpace keeps the running thread's new space at the size it has", () => {
    const newSpace = () =>
      getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')!.space_size;
    holdNewSpace();
    const before = newSpace();
    // Objects that survive scavenges: V8 would double the new space at each until it reached 32 MiB.
    let kept: object[] = [];
    for (let i = 0; i < 2_000_000; i++) {
      kept.push({ i, text: `task-${i}` });
      if (kept.length > 200_000) kept = [];
    }
    assert.ok(kept.length > 0);
    assert.ok(newSpace() <= before, `new space ${newSpace()} bytes, ${before} before`);
  });

  test('roomToPlan lets the heap grow further while any planning runs, and tightens it after the last', async () => {
    tuneHeap();
    assert.equal(heapGrowth(), 25);
    const seen: Array<number | undefined> = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const plan = roomToPlan(async (tasks: number) => {
      seen.push(heapGrowth());
      await held;
      return tasks * 2;
    });
    const failing = roomToPlan(async () => {
      seen.push(heapGrowth());
      throw new Error('bad query');
    });
    const first = plan(2);
    const second = plan(3);
    await assert.rejects(failing(), /bad query/);
    assert.equal(heapGrowth(), 50, 'two plans still run');
    release();
    assert.deepEqual(await Promise.all([first, second]), [4, 6]);
    assert.deepEqual(seen, [50, 50, 50]);
    assert.equal(heapGrowth(), 25);
  });
});
