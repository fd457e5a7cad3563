import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, testStack, type TestStack } from '../../helpers/stack';
import { FAULTS_OUTPUT } from './figures';
import { WorkerPool } from './workers';

export const ANALYSES = join(ROOT, 'test', 'fixtures', 'analyses');
/** Relative to the repository, as a user would write it in a spec; workers resolve it there. */
export const COMMANDS = 'test/fixtures/commands';

export interface FaultSetup {
  stack: TestStack;
  /** Environment of the test's worker processes and CLI runs. */
  env: NodeJS.ProcessEnv;
  workers: WorkerPool;
  /** A scratch folder for the test's spec and parameter files. */
  dir: string;
  writeJson(name: string, value: unknown): string;
  close(): Promise<void>;
}

/**
 * A fault test's own databases, bucket and task queue on the local stack, with worker processes
 * of its own (started by the test) whose logs go to test-output/faults/<name>/.
 */
export async function faultSetup(label: string, env: NodeJS.ProcessEnv = {}): Promise<FaultSetup> {
  const stack = await testStack(label);
  // The fault tests drive programs given as spec commands, which workers run only when allowed.
  Object.assign(stack.env, { ANALYSIS_MODULES_DIR: ANALYSES, ANALYSIS_ALLOW_SPEC_COMMANDS: '1', ...env });
  const workers = new WorkerPool(stack.env, join(FAULTS_OUTPUT, stack.name));
  const dir = mkdtempSync(join(tmpdir(), `faults-${label}-`));
  return {
    stack,
    env: stack.env,
    workers,
    dir,
    writeJson(name, value) {
      const path = join(dir, name);
      writeFileSync(path, JSON.stringify(value));
      return path;
    },
    async close() {
      await workers.stopAll();
      await stack.close();
    },
  };
}
