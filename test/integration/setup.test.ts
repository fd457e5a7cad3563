import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { msToTs } from '@temporalio/common/lib/time';
import { loadConfig } from '../../src/config';
import { createWorker } from '../../src/workers/worker-process';
import { runCli, type CliResult } from '../helpers/cli';
import { seedAssets, writeSpec } from '../helpers/data';
import { FIXTURE_ANALYSES, testStack, workflowBundle, type TestStack } from '../helpers/stack';

const PROJECT_ATTRIBUTES = ['DispatchId', 'AnalysisName', 'RetryOf'];

/**
 * `analysis setup` on a namespace of its own: created, its search attributes registered, a second
 * run changes nothing; and before setup, a worker and `dispatch` name what is missing and the
 * command to run instead of failing with the server's words.
 */
describe('analysis setup', () => {
  let stack: TestStack;
  let namespace: string;
  let bare: string;
  let env: NodeJS.ProcessEnv;
  const output = (result: CliResult) => `exit ${result.code}\n${result.stdout}\n${result.stderr}`;
  const attributesOf = async (ns: string) => {
    const listed = await stack.client.connection.operatorService.listSearchAttributes({ namespace: ns });
    return Object.keys(listed.customAttributes ?? {});
  };

  before(async () => {
    stack = await testStack('setup');
    const suffix = randomBytes(4).toString('hex');
    namespace = `setup-test-${suffix}`;
    bare = `setup-bare-${suffix}`;
    env = { ...stack.env, TEMPORAL_NAMESPACE: namespace };
  });
  after(async () => {
    for (const ns of [namespace, bare])
      await stack?.client.connection.operatorService
        .deleteNamespace({ namespace: ns })
        .catch(() => undefined);
    await stack?.close();
  });

  test('creates the namespace and registers the search attributes, then finds them there', async () => {
    const first = await runCli(['setup', '--retention_days', '3'], env);
    assert.equal(first.code, 0, output(first));
    assert.match(first.stdout, new RegExp(`^namespace ${namespace}: created, retention 3 days$`, 'm'));
    for (const name of PROJECT_ATTRIBUTES)
      assert.match(first.stdout, new RegExp(`^search attribute ${name} \\(Keyword\\): registered$`, 'm'));
    const described = await stack.client.connection.workflowService.describeNamespace({ namespace });
    assert.equal(Number(described.config?.workflowExecutionRetentionTtl?.seconds), 3 * 86_400);
    const registered = await attributesOf(namespace);
    for (const name of PROJECT_ATTRIBUTES) assert.ok(registered.includes(name), `${name} in ${registered}`);

    const again = await runCli(['setup'], env);
    assert.equal(again.code, 0, output(again));
    assert.match(again.stdout, new RegExp(`^namespace ${namespace}: exists$`, 'm'));
    for (const name of PROJECT_ATTRIBUTES)
      assert.match(
        again.stdout,
        new RegExp(`^search attribute ${name} \\(Keyword\\): registered already$`, 'm'),
      );
    assert.doesNotMatch(again.stdout, /: registered$|created/m);
  });

  test('a namespace without them: the worker and dispatch name what is missing and `analysis setup`', async () => {
    await stack.client.connection.workflowService.registerNamespace({
      namespace: bare,
      workflowExecutionRetentionPeriod: msToTs('1 day'),
    });
    const bareEnv = { ...stack.env, TEMPORAL_NAMESPACE: bare };
    const bundle = await workflowBundle();
    // A namespace just registered may take a few seconds to reach the frontend's cache.
    let refusal: Error | undefined;
    for (let i = 0; i < 60; i++) {
      refusal = await withNamespace(bare, () =>
        createWorker(loadConfig(bareEnv), { analysesDir: FIXTURE_ANALYSES, workflowBundle: bundle }).then(
          (worker) => {
            worker.shutdown();
            return undefined;
          },
          (err: Error) => err,
        ),
      );
      if (refusal && !/does not exist/.test(refusal.message)) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    assert.ok(refusal, 'the worker refused to start');
    assert.match(refusal.message, new RegExp(`namespace "${bare}" lacks the search attributes`));
    for (const name of PROJECT_ATTRIBUTES) assert.match(refusal.message, new RegExp(name));
    assert.match(refusal.message, /analysis setup/);

    await seedAssets(stack, { count: 1, namePrefix: 'setup' });
    const dir = mkdtempSync(join(tmpdir(), 'setup-test-'));
    const spec = writeSpec(dir, [
      { analysis_name: 'Noop', analysis_version: '1.0.0', analysis_parameters: { label: 'x' } },
    ]);
    const dispatched = await runCli(
      ['dispatch', '--query', '{"name": "setup_0000"}', '--analysis_spec', spec],
      { ...bareEnv, ANALYSIS_MODULES_DIR: FIXTURE_ANALYSES },
    );
    assert.equal(dispatched.code, 1, output(dispatched));
    assert.match(dispatched.stderr, new RegExp(`namespace "${bare}" lacks the search attributes? `));
    assert.match(dispatched.stderr, /run `analysis setup` once against it/);
    assert.doesNotMatch(dispatched.stderr, /INVALID_ARGUMENT|is not defined|no mapping/);
  });
});

/** Runs `body` with TEMPORAL_NAMESPACE set, as the worker reads its settings from the environment. */
async function withNamespace<T>(namespace: string, body: () => Promise<T>): Promise<T> {
  const before = process.env.TEMPORAL_NAMESPACE;
  process.env.TEMPORAL_NAMESPACE = namespace;
  try {
    return await body();
  } finally {
    if (before === undefined) delete process.env.TEMPORAL_NAMESPACE;
    else process.env.TEMPORAL_NAMESPACE = before;
  }
}
