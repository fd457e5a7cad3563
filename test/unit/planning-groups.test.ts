import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { groupAssets, type GroupRequest } from '../../src/planning/groups';
import type { SelectedAsset } from '../../src/planning/select';

const asset = (id: string, doc: Record<string, unknown>): SelectedAsset => ({
  id,
  name: id,
  location: `s3://data/${id}`,
  doc: { _id: id, ...doc },
});
const assets = [
  asset('a', { subject: { id: 's1' }, tags: ['x', 'y'] }),
  asset('b', { subject: { id: 's1' }, tags: 'x' }),
  asset('c', { subject: { id: 's2' }, tags: [] }),
  asset('d', { tags: ['y', 'y'] }),
  asset('e', { subject: { id: null } }),
];
const groups = (request: Partial<GroupRequest>) => {
  const warnings: string[] = [];
  const result = groupAssets(assets, { group_by: [], ...request }, warnings);
  return { groups: result.map(({ values, members }) => [values, members.map((m) => m.id)]), warnings };
};

describe('planning/groups groupAssets', () => {
  test('drop_null_groups leaves out and counts assets without a value; 0 groups them under null', () => {
    const dropped = groups({ group_by: ['subject.id'], drop_null_groups: true });
    assert.deepEqual(dropped.groups, [
      [{ 'subject.id': 's1' }, ['a', 'b']],
      [{ 'subject.id': 's2' }, ['c']],
    ]);
    assert.match(dropped.warnings.join('\n'), /^2 assets have no value for subject\.id: left out/);
    const kept = groups({ group_by: ['subject.id'], drop_null_groups: false });
    assert.deepEqual(kept.groups.at(-1), [{ 'subject.id': null }, ['d', 'e']]);
    assert.match(kept.warnings.join('\n'), /2 assets have no subject\.id; they are grouped together/);
    // Requests of earlier versions carry no setting: they grouped under null.
    assert.deepEqual(groups({ group_by: ['subject.id'] }).groups, kept.groups);
  });

  test('unwind_list_fields: each value of a list is a membership, a single value a list of one', () => {
    const unwound = groups({ group_by: ['tags'], unwind_list_fields: ['tags'], drop_null_groups: true });
    assert.deepEqual(unwound.groups, [
      [{ tags: 'x' }, ['a', 'b']],
      [{ tags: 'y' }, ['a', 'd']],
    ]);
    assert.match(
      unwound.warnings.join('\n'),
      /^2 assets have no value for tags/,
      'an empty list counts as none',
    );
    const keepingNull = groups({ group_by: ['tags'], unwind_list_fields: ['tags'], drop_null_groups: false });
    assert.deepEqual(keepingNull.groups.at(-1), [{ tags: null }, ['c', 'e']]);
    // Without unwinding, a list is one value.
    assert.deepEqual(groups({ group_by: ['tags'], drop_null_groups: true }).groups.length, 4);
  });

  test('unwinding a list of documents groups by a field of its items', () => {
    const withSubjects = [
      asset('m', { subjects: [{ id: 1 }, { id: 2 }] }),
      asset('n', { subjects: [{ id: 2 }] }),
    ];
    const warnings: string[] = [];
    const result = groupAssets(
      withSubjects,
      { group_by: ['subjects.id'], unwind_list_fields: ['subjects'], drop_null_groups: true },
      warnings,
    );
    assert.deepEqual(
      result.map(({ values, members }) => [values, members.map((m) => m.id)]),
      [
        [{ 'subjects.id': 1 }, ['m']],
        [{ 'subjects.id': 2 }, ['m', 'n']],
      ],
    );
  });

  test('field names special to JavaScript objects are fields like any other', () => {
    const special = [
      asset('p', JSON.parse('{"__proto__": {"x": 1}, "constructor": "c1"}') as Record<string, unknown>),
      asset('q', JSON.parse('{"__proto__": {"x": 2}}') as Record<string, unknown>),
      asset('r', {}),
    ];
    const warnings: string[] = [];
    const byProto = groupAssets(special, { group_by: ['__proto__.x'], drop_null_groups: true }, warnings);
    assert.deepEqual(
      byProto.map(({ values, members }) => [JSON.stringify(values), members.map((m) => m.id)]),
      [
        ['{"__proto__.x":1}', ['p']],
        ['{"__proto__.x":2}', ['q']],
      ],
    );
    const byConstructor = groupAssets(special, { group_by: ['constructor'], drop_null_groups: true }, []);
    assert.deepEqual(
      byConstructor.map(({ members }) => members.map((m) => m.id)),
      [['p']],
    );
  });
});
