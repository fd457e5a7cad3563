import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isInside, resolveInside } from '../../src/path-containment';

describe('path-containment', () => {
  test('isInside holds for the folder itself and what lies below it', () => {
    assert.ok(isInside('/a/b', '/a/b'));
    assert.ok(isInside('/a/b', '/a/b/c/d'));
    assert.ok(isInside('/a/b', '/a/b/..c'));
    assert.ok(!isInside('/a/b', '/a'));
    assert.ok(!isInside('/a/b', '/a/bc'));
    assert.ok(!isInside('/a/b', '/a/b/../c'));
  });

  test('resolveInside keeps relative paths inside the folder and refuses the rest', () => {
    assert.equal(resolveInside('/out/h', 'a/b.txt'), '/out/h/a/b.txt');
    assert.equal(resolveInside('/out/h', 'a/../b.txt'), '/out/h/b.txt');
    assert.equal(resolveInside('/out/h', '..b.txt'), '/out/h/..b.txt');
    for (const path of ['../x', 'a/../../x', '/etc/passwd', '', '.', 'a/..', 'a\0b']) {
      assert.equal(resolveInside('/out/h', path), undefined, JSON.stringify(path));
    }
  });
});
