import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { firstOfEachGroup, isNotImplemented, latestPipeline } from '../../src/planning/latest';

async function* docs(items: Array<Record<string, unknown>>) {
  yield* items;
}
const collect = async <T>(items: AsyncIterable<T>): Promise<T[]> => {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
};

describe('planning/latest', () => {
  test('firstOfEachGroup keeps the first document of each group of values, missing and null alike', async () => {
    const sorted = [
      { _id: 'a3', s: { id: 1 } },
      { _id: 'b2', s: { id: 2 } },
      { _id: 'a1', s: { id: 1 } },
      { _id: 'n1' },
      { _id: 'n2', s: { id: null } },
    ];
    const kept = await collect(firstOfEachGroup(docs(sorted), { field: 'created', by: ['s.id'] }));
    assert.deepEqual(
      kept.map((doc) => doc._id),
      ['a3', 'b2', 'n1'],
    );
  });

  test('latestPipeline sorts newest first and keeps the first of each group', () => {
    assert.deepEqual(
      latestPipeline({ x: 1 }, { _id: 1, created: 1 }, { field: 'created', by: ['s.id', 'p'] }),
      [
        { $match: { x: 1 } },
        { $project: { _id: 1, created: 1 } },
        { $sort: { created: -1, _id: -1 } },
        {
          $group: {
            _id: { k0: { $ifNull: ['$s.id', null] }, k1: { $ifNull: ['$p', null] } },
            asset: { $first: '$$ROOT' },
          },
        },
        { $replaceRoot: { newRoot: '$asset' } },
      ],
    );
  });

  test('isNotImplemented knows the codes of a server without the stages', () => {
    assert.equal(isNotImplemented({ code: 238 }), true);
    assert.equal(isNotImplemented({ code: 2 }), false);
    assert.equal(isNotImplemented(new Error('x')), false);
  });
});
