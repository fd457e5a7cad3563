import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { defineAnalysis } from '../../src/analysis/define';

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
});
