import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { ROOT } from '../../helpers/stack';

export const FAULTS_OUTPUT = join(ROOT, 'test-output', 'faults');

/**
 * Reports a test's measured figures (records expected and found, outage length, time to recover)
 * in the test output and appends them to test-output/faults/figures.jsonl, for the notes.
 */
export function reportFigures(t: TestContext, figures: Record<string, unknown>): void {
  t.diagnostic(`figures: ${JSON.stringify(figures)}`);
  mkdirSync(FAULTS_OUTPUT, { recursive: true });
  appendFileSync(
    join(FAULTS_OUTPUT, 'figures.jsonl'),
    `${JSON.stringify({ test: t.name, at: new Date().toISOString(), ...figures })}\n`,
  );
}
