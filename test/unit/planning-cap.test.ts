import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { capTasks } from '../../src/planning/plan-dispatch';
import type { Task } from '../../src/types';

const tasks = ['a', 'b', 'c', 'd'].map((hash) => ({ hash }) as Task);

describe('planning/plan-dispatch capTasks', () => {
  test('keeps the first tasks and says how many there were', () => {
    const capped = capTasks(tasks, 3);
    assert.deepEqual(
      capped.tasks.map((task) => task.hash),
      ['a', 'b', 'c'],
    );
    assert.equal(capped.capped_from, 4);
  });

  test('no cap, or a cap the tasks fit in, leaves them all and says nothing', () => {
    assert.deepEqual(capTasks(tasks, undefined), { tasks });
    assert.deepEqual(capTasks(tasks, 4), { tasks });
  });
});
