import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { AnalysisNameKey, DispatchIdKey, RetryOfKey } from '../../src/workflows/search-attributes';
import { ROOT } from './stack';

/** The `--dynamic-config-value` settings ./temporal-dev.sh starts the local dev server with. */
export function devServerDynamicConfig(): string[] {
  const script = readFileSync(join(ROOT, 'temporal-dev.sh'), 'utf8');
  return [...script.matchAll(/--dynamic-config-value\s+([\w.]+=\S+)/g)].map((match) => match[1]!);
}

/**
 * A dev server of the test's own (in memory, on a free port) started with the local stack's
 * dynamic config: tests that need a queue no other test's tasks wait on, or the server settings
 * of a stack that was started before they were added.
 */
export async function startDevServer(): Promise<TestWorkflowEnvironment> {
  const path = process.env.TEMPORAL_CLI_PATH || join(ROOT, '.dev', 'venv', 'bin', 'temporal');
  const settings = devServerDynamicConfig();
  if (settings.length === 0) throw new Error('temporal-dev.sh starts the dev server without dynamic config');
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path },
      searchAttributes: [DispatchIdKey, AnalysisNameKey, RetryOfKey],
      extraArgs: settings.flatMap((setting) => ['--dynamic-config-value', setting]),
    },
  });
}
