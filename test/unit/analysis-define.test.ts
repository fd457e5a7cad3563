import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { defineAnalysis } from '../../src/analysis/define';
import { InputError } from '../../src/errors';

void describe('analysis/define', () => {
  void test('defineAnalysis returns the definition and refuses an empty name', async () => {
    const definition = defineAnalysis({
      name: 'Double',
      parameters: z.object({ x: z.number(), factor: z.number().default(2) }),
      outputs: z.object({ y: z.number() }),
      async run({ parameters }) {
        return { y: parameters.x * parameters.factor };
      },
    });
    assert.equal(definition.name, 'Double');
    const parameters = definition.parameters.parse({ x: 3 });
    assert.deepEqual(await definition.run({ parameters } as Parameters<typeof definition.run>[0]), { y: 6 });
    assert.throws(
      () =>
        defineAnalysis({ name: ' ', parameters: z.object({}), outputs: z.object({}), run: async () => ({}) }),
      /non-empty name/,
    );
  });

  void test('defineAnalysis takes a max_concurrent of at least 1 and refuses any other, naming it', () => {
    const define = (max_concurrent: unknown) =>
      defineAnalysis({
        name: 'Capped',
        parameters: z.object({}),
        outputs: z.object({}),
        run: async () => ({}),
        max_concurrent: max_concurrent as number,
      });
    assert.equal(define(2).max_concurrent, 2);
    for (const bad of [0, -1, 1.5, '2', Number.NaN]) {
      assert.throws(
        () => define(bad),
        (err: unknown) =>
          err instanceof InputError &&
          /^Analysis "Capped": max_concurrent: must be a whole number, at least 1$/.test(err.message),
        `max_concurrent ${String(bad)}`,
      );
    }
  });
});
