import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Collection } from 'mongodb';
import { createLeases, type Lease, type LeaseHolder } from '../../src/storage/leases';
import { testStack, type TestStack } from '../helpers/stack';

const holder = (job: string, step = '1'): LeaseHolder => ({
  workflow_id: job,
  run_id: `${job}-run`,
  activity_id: step,
  worker: 'test-worker',
});

/** Leases on the stack's document database (FerretDB here), as the workers use them. */
describe('storage/leases', () => {
  let stack: TestStack;
  let collection: Collection<Lease>;
  before(async () => {
    stack = await testStack('leases');
    collection = stack.mongo.db(stack.config.DOCDB_DATABASE).collection<Lease>('leases');
  });
  after(() => stack?.close());

  test('of ten runs asking at once for one of three slots, exactly three get one', async () => {
    const leases = createLeases({ leases: collection, isRunning: async () => true });
    const taken = await Promise.all(
      Array.from({ length: 10 }, (_, i) => leases.acquire('Race', 3, holder(`job-${i}`))),
    );
    const held = taken.filter((lease) => lease !== undefined);
    assert.equal(held.length, 3);
    assert.deepEqual(held.map((lease) => lease.slot).sort(), ['Race#0', 'Race#1', 'Race#2']);
    await held[0]!.release();
    assert.ok(await leases.acquire('Race', 3, holder('job-late')), 'a slot given back is free again');
    assert.equal(await leases.acquire('Race', 3, holder('job-later')), undefined);
  });

  test('a lapsed slot is taken over, and its old holder can neither renew nor give it back', async () => {
    let clock = Date.parse('2026-01-01T00:00:00Z');
    const leases = createLeases({
      leases: collection,
      isRunning: async () => true,
      ttlMs: 30_000,
      now: () => new Date(clock),
    });
    const first = await leases.acquire('Lapse', 1, holder('job-a'));
    assert.ok(first);
    clock += 20_000;
    assert.equal(await first.renew(), true);
    clock += 29_000;
    assert.equal(await leases.acquire('Lapse', 1, holder('job-b')), undefined, 'renewed: still held');
    clock += 2_000;
    const second = await leases.acquire('Lapse', 1, holder('job-b'));
    assert.ok(second, 'lapsed 30 s after its last renewal');
    assert.equal(await first.renew(), false);
    await first.release();
    assert.equal((await collection.findOne({ _id: 'Lapse#0' }))?.workflow_id, 'job-b');
  });

  test("a closed job's slot, or one an earlier attempt of the same step left, is free at once", async () => {
    const running = new Set(['job-a']);
    const leases = createLeases({ leases: collection, isRunning: async (job) => running.has(job) });
    assert.ok(await leases.acquire('Closed', 1, holder('job-a', 'step-1')));
    assert.equal(await leases.acquire('Closed', 1, holder('job-b')), undefined);
    assert.ok(await leases.acquire('Closed', 1, holder('job-a', 'step-1')), 'the same step, again');
    assert.equal(await leases.acquire('Closed', 1, holder('job-a', 'step-2')), undefined);
    running.delete('job-a');
    // A fresh view: the holder was seen running a moment ago by the leases above.
    const fresh = createLeases({ leases: collection, isRunning: async (job) => running.has(job) });
    const taken = await fresh.acquire('Closed', 1, holder('job-b'));
    assert.ok(taken, 'the job holding it has closed');
    assert.equal((await collection.findOne({ _id: 'Closed#0' }))?.workflow_id, 'job-b');
  });
});
