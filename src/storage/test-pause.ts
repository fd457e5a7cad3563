import { appendFileSync } from 'node:fs';

/**
 * TEST ONLY. The fault suite kills a worker (SIGKILL) at a chosen point of a task's commit, which a
 * kill at a random time reaches only by luck. A worker started with both
 * `ANALYSIS_TEST_PAUSE_AT=<point>` and `ANALYSIS_TEST_PAUSE_FILE=<path>` appends a line naming the
 * point and the task to that file when a run step gets there, then waits for ever, so the test can
 * kill it at exactly that point. Both are read once, when the worker loads this module; without
 * both (every real deployment), `pauseForTest` does nothing, and a point that is not one of these
 * stops the worker at its start rather than being ignored.
 */
export const TEST_PAUSE_POINTS = ['after-upload', 'after-record', 'before-lock-release'] as const;
export type TestPausePoint = (typeof TEST_PAUSE_POINTS)[number];

const armed = testPauseFromEnv(process.env);

function testPauseFromEnv(env: NodeJS.ProcessEnv): { at: TestPausePoint; file: string } | undefined {
  const at = env.ANALYSIS_TEST_PAUSE_AT;
  const file = env.ANALYSIS_TEST_PAUSE_FILE;
  if (!at || !file) return undefined;
  if (!(TEST_PAUSE_POINTS as readonly string[]).includes(at))
    throw new Error(`ANALYSIS_TEST_PAUSE_AT=${at} is none of ${TEST_PAUSE_POINTS.join(', ')}`);
  // Loud on purpose: a worker set up this way stops for good at the first task that gets there.
  process.emitWarning(`ANALYSIS_TEST_PAUSE_AT=${at}: this worker stops at ${at} (for tests only)`);
  return { at: at as TestPausePoint, file };
}

/** At the armed point, records that this worker got there, then never returns. */
export async function pauseForTest(at: TestPausePoint, task: string): Promise<void> {
  if (armed?.at !== at) return;
  appendFileSync(armed.file, `${JSON.stringify({ at, task, pid: process.pid })}\n`);
  await new Promise<never>(() => undefined);
}
