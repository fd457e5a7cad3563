import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../helpers/cli';
import { seedAssets, writeSpec } from '../helpers/data';
import { ROOT, testStack, type TestStack } from '../helpers/stack';
import { WorkerPool } from '../faults/helpers/workers';

const CAP_ANALYSES = join(ROOT, 'test', 'fixtures', 'cap-analyses');

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments skipped). */
function parseExposition(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      assert.ok(match, `not a sample line: ${line}`);
      const labels = Object.fromEntries(
        [...(match[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]),
      );
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
}

/** The sum of a metric's samples whose labels include `labels`. */
function total(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter(
      (sample) =>
        sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
    )
    .reduce((sum, sample) => sum + sample.value, 0);
}

function listen(server: Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '0.0.0.0', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('worker --metrics_port', () => {
  let stack: TestStack;
  let workers: WorkerPool;
  let dir: string;

  before(async () => {
    stack = await testStack('metrics');
    stack.env.ANALYSIS_MODULES_DIR = CAP_ANALYSES;
    dir = mkdtempSync(join(tmpdir(), 'metrics-'));
    workers = new WorkerPool(stack.env, join(ROOT, 'test-output', 'metrics', stack.name));
  });
  after(async () => {
    await workers?.stopAll();
    await stack?.close();
  });

  test('a port outside 1..65535, or one already taken, is refused naming the flag (exit 2)', async () => {
    for (const port of ['0', '65536', 'http']) {
      const result = await runCli(['worker', '--metrics_port', port], stack.env, { timeoutMs: 30_000 });
      assert.equal(result.code, 2, `${port}: ${result.stderr}`);
      assert.match(
        result.stderr,
        new RegExp(`--metrics_port must be a port number from 1 to 65535, got "${port}"`),
      );
    }
    const taken = createServer();
    const port = await listen(taken);
    try {
      const result = await runCli(['worker', '--metrics_port', String(port)], stack.env, {
        timeoutMs: 60_000,
      });
      assert.equal(result.code, 2, result.stderr);
      assert.match(
        result.stderr,
        new RegExp(`^error: --metrics_port ${port}: .*Address already in use`, 'm'),
      );
    } finally {
      taken.close();
    }
  });

  test("a scrape during a dispatch shows the SDK's metrics and the analyses' with their values", async () => {
    await seedAssets(stack, { count: 1, namePrefix: 'metrics' });
    const port = await freePort();
    await workers.start({}, ['--metrics_port', String(port)]);
    const scrape = async () => {
      const response = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
      return parseExposition(await response.text());
    };
    const marks = mkdtempSync(join(dir, 'marks-'));
    let finished = false;
    const dispatch = runCli(
      [
        'dispatch',
        '--query',
        '{"name": {"$regex": "^metrics_"}}',
        '--analysis_spec',
        writeSpec(dir, [{ analysis_name: 'Stamp', analysis_version: '1' }]),
        '--analysis_parameters',
        writeSpec(
          dir,
          {
            fixed_parameters: { ms: 1_500, marks },
            distributed_parameters: [0, 1, 2, 3].map((k) => ({ k })),
          } as never,
          'parameters.json',
        ),
        '--tasks_per_job',
        '1',
        '--num_parallel_workers',
        '4',
        '--wait',
      ],
      stack.env,
      { timeoutMs: 180_000 },
    ).finally(() => (finished = true));

    // While it runs: the slots held show, never more than Stamp's max_concurrent of 2.
    let peakHeld = 0;
    let scrapesWhileRunning = 0;
    while (!finished) {
      const samples = await scrape();
      if (!finished && total(samples, 'analysis_tasks_started_total', { analysis: 'Stamp' }) > 0)
        scrapesWhileRunning++;
      peakHeld = Math.max(peakHeld, total(samples, 'analysis_leases_held', { analysis: 'Stamp' }));
      await sleep(250);
    }
    const result = await dispatch;
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assert.ok(scrapesWhileRunning > 0, 'scraped while the runs went on');
    assert.equal(peakHeld, 2, 'two slots of Stamp held at the busiest');

    const samples = await scrape();
    const stamp = { analysis: 'Stamp' };
    assert.equal(total(samples, 'analysis_tasks_started_total', stamp), 4);
    assert.equal(total(samples, 'analysis_tasks_succeeded_total', stamp), 4);
    assert.equal(total(samples, 'analysis_tasks_failed_total', stamp), 0);
    assert.equal(total(samples, 'analysis_leases_held', stamp), 0, 'every slot given back');
    const runs = { ...stamp, outcome: 'succeeded' };
    assert.equal(total(samples, 'analysis_task_run_seconds_count', runs), 4);
    const seconds = total(samples, 'analysis_task_run_seconds_sum', runs);
    assert.ok(seconds >= 4 * 1.5 && seconds < 4 * 10, `run seconds ${seconds}`);
    assert.equal(total(samples, 'analysis_task_run_seconds_bucket', { ...runs, le: '1' }), 0);
    assert.equal(total(samples, 'analysis_task_run_seconds_bucket', { ...runs, le: '+Inf' }), 4);
    // Each run uploads its outputs.json, {"k":n}, at least.
    assert.ok(total(samples, 'analysis_uploaded_bytes_total', stamp) >= 4 * 7);

    // The SDK's own: task slots, poll and schedule-to-start latencies, activities run.
    const names = new Set(samples.map((sample) => sample.name));
    for (const name of [
      'temporal_worker_task_slots_available',
      'temporal_workflow_task_schedule_to_start_latency_count',
      'temporal_activity_schedule_to_start_latency_count',
      'temporal_long_request_latency_count',
    ])
      assert.ok(
        names.has(name),
        `${name} in ${[...names].filter((n) => n.startsWith('temporal_')).join(' ')}`,
      );
    assert.ok(
      total(samples, 'temporal_activity_execution_latency_count', { activity_type: 'runTask' }) >= 4,
      'at least the four run steps executed',
    );
  });
});
