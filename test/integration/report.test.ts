import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { launchBrowser, type Browser } from '../helpers/browser';
import { runCli, type CliResult } from '../helpers/cli';
import { seedAssets, writeSpec } from '../helpers/data';
import { ROOT, testStack, type TestStack } from '../helpers/stack';
import type { ReportData } from '../../src/report/types';

const FIXTURES = join(ROOT, 'test', 'fixtures', 'analyses');
const OUT = join(ROOT, 'test-output');
const MEMORY = 'worker ran out of memory after <n> MiB';
const POISON = 'poisoned task: fail is true';

/**
 * `report` over a real dispatch with failures of two causes: 3 assets x 2 analyses x 2 parameter
 * sets. "Fail When" succeeds with the first set and fails with the second; "Always Fails" fails
 * with both, each with its own message of one cause. The page is opened in headless Chromium with
 * every request but the file itself refused, and what it shows is checked against the records.
 */
describe('report of a dispatch', () => {
  let stack: TestStack;
  let browser: Promise<Browser> | undefined;
  let dispatchId: string;
  let assets: string[];
  let dir: string;
  const cli = (...args: string[]) => runCli(args, stack.env, { timeoutMs: 180_000 });
  const output = (result: CliResult) => `exit ${result.code}\n${result.stdout}\n${result.stderr}`;

  before(async () => {
    browser = launchBrowser({ width: 1280, height: 900 });
    browser.catch(() => undefined);
    stack = await testStack('report');
    stack.env.ANALYSIS_MODULES_DIR = FIXTURES;
    await stack.startWorker({ ANALYSIS_MODULES_DIR: FIXTURES });
    assets = await seedAssets(stack, { count: 3 });
    dir = mkdtempSync(join(tmpdir(), 'report-test-'));
    const spec = writeSpec(dir, [
      { analysis_name: 'Fail When', analysis_version: '1', max_attempts: 1 },
      { analysis_name: 'Always Fails', analysis_version: '1', max_attempts: 1 },
    ]);
    const parameters = join(dir, 'parameters.json');
    writeFileSync(
      parameters,
      JSON.stringify({
        distributed_parameters: [
          { ms: 300, message: 'worker ran out of memory after 512 MiB' },
          { fail: true, ms: 100, message: 'worker ran out of memory after 2048 MiB' },
        ],
      }),
    );
    const run = await cli(
      'dispatch',
      '--query',
      '{"name": {"$regex": "^asset_"}}',
      '--analysis_spec',
      spec,
      '--analysis_parameters',
      parameters,
      '--num_parallel_workers',
      '4',
      '--tolerated_failure_percent',
      '100',
      '--wait',
      '--json',
    );
    assert.equal(run.code, 4, output(run));
    dispatchId = (JSON.parse(run.stdout) as { dispatch_id: string }).dispatch_id;
  });

  after(async () => {
    await (await browser?.catch(() => undefined))?.close();
    await stack?.close();
  });

  test('--json: counts, durations and failures by cause, as the records and the dispatch say', async () => {
    const result = await cli('report', dispatchId, '--json');
    assert.equal(result.code, 0, output(result));
    const data = JSON.parse(result.stdout) as ReportData;
    const records = stack.mongo.db(stack.config.DOCDB_DATABASE).collection(stack.config.DOCDB_COLLECTION);
    assert.equal(await records.countDocuments({ dispatch_id: dispatchId }), 3);
    assert.equal(data.tasks.records, 3);
    assert.deepEqual(
      data.tasks.analyses.map((a) => [a.analysis_name, a.records, a.duration_s?.count]),
      [['Fail When', 3, 3]],
    );
    // Each run slept 300 ms before it wrote its result.
    assert.ok(data.tasks.analyses[0]!.duration_s!.min >= 0.3, JSON.stringify(data.tasks.analyses[0]));
    assert.equal(
      data.tasks.finished.reduce((a, b) => a + b, 0),
      3,
    );
    assert.deepEqual(data.dispatch.counts, {
      succeeded: 3,
      skipped: 0,
      changed_code: 0,
      failed: 9,
      cancelled: 0,
      jobs_finished: 12,
    });
    assert.equal(data.dispatch.plan?.tasks_to_run, 12);
    assert.equal(data.jobs.listed, 12);
    assert.equal(data.jobs.spans?.length, 12);
    assert.deepEqual(data.jobs.by_status, { COMPLETED: 12 });
    assert.deepEqual(
      data.failures.groups.map((g) => [g.signature, g.count]),
      [
        [MEMORY, 6],
        [POISON, 3],
      ],
    );
    assert.equal(data.failures.failed, 9);
    for (const group of data.failures.groups)
      for (const asset of group.example_assets) assert.ok(assets.includes(asset), asset);
    assert.equal(
      data.tasks.workers.reduce((sum, w) => sum + w.tasks, 0),
      3,
    );
  });

  test('the HTML page opens with no network and shows the counts, the causes and an example asset', async () => {
    const file = join(OUT, 'report', 'report.html');
    mkdirSync(join(OUT, 'report'), { recursive: true });
    const result = await cli('report', dispatchId, '--out', file);
    assert.equal(result.code, 0, output(result));
    assert.match(
      result.stdout,
      /^wrote .*report\.html \(.* KiB\): .* 3 records, 9 failed in 2 causes, 12 jobs$/m,
    );
    const html = readFileSync(file, 'utf8');
    assert.doesNotMatch(html, /<(link|img|iframe)\b|<script\b(?![^>]*application\/json)|@import|url\(/i);

    const page = await (await browser!).context.newPage();
    const fileUrl = pathToFileURL(file).href;
    const attempted: string[] = [];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url === fileUrl) return route.continue();
      attempted.push(url);
      return route.abort();
    });
    await page.goto(fileUrl, { waitUntil: 'load' });
    await page.screenshot({ path: join(OUT, 'report.png'), fullPage: true });
    assert.deepEqual(attempted, [], 'the report asked for nothing beyond its own file');

    const text = async (selector: string) => (await page.locator(selector).innerText()).trim();
    assert.equal(await text('#status'), 'completed with failures');
    assert.equal(await text('[data-count="succeeded"] b'), '3');
    assert.equal(await text('[data-count="failed"] b'), '9');
    assert.equal(await text('[data-plan="to run"]'), '12');
    assert.equal(await text('[data-analysis="Fail When"] [data-records]'), '3');
    assert.match(await text('#jobs'), /12 jobs \(12 completed\), one bar each/);
    assert.equal(await page.locator('#jobs rect.job').count(), 12);
    assert.match(await text('#failures'), /9 tasks failed, 2 causes/);
    const groups = page.locator('#failures tr.failure-group');
    assert.equal(await groups.count(), 2);
    assert.equal(await text('#failures tr.failure-group:nth-child(1) [data-failures]'), '6');
    assert.equal(await text('#failures tr.failure-group:nth-child(1) [data-signature]'), MEMORY);
    assert.equal(await text('#failures tr.failure-group:nth-child(2) [data-signature]'), POISON);
    const shown = (await text('#failures tr.failure-group:nth-child(1) [data-assets]')).split('\n');
    assert.ok(shown.length > 0 && shown.every((asset) => assets.includes(asset)), shown.join());
    await page.close();
  });

  test('status groups the same failures by the same causes', async () => {
    const result = await cli('status', dispatchId);
    assert.equal(result.code, 4, output(result));
    assert.match(
      result.stdout,
      /^9 failed: 6 x "worker ran out of memory after <n> MiB" \(e\.g\. asset asset_000\d\), 3 x "poisoned task: fail is true" \(e\.g\. asset asset_000\d\)$/m,
    );
  });

  test('an unknown dispatch or an unwritable --out: exit 2, a clear message, no file touched', async () => {
    const existing = join(dir, 'kept.html');
    writeFileSync(existing, 'earlier report');
    const unknown = await cli('report', '20990101-000000-0000', '--out', existing);
    assert.equal(unknown.code, 2, output(unknown));
    assert.match(unknown.stderr, /^error: no dispatch 20990101-000000-0000 on this Temporal server$/m);
    assert.equal(readFileSync(existing, 'utf8'), 'earlier report');
    assert.deepEqual(readdirSync(dir).sort(), ['kept.html', 'parameters.json', 'spec.json']);

    const missing = join(dir, 'no-such-folder', 'report.html');
    const unwritable = await cli('report', dispatchId, '--out', missing);
    assert.equal(unwritable.code, 2, output(unwritable));
    assert.match(unwritable.stderr, /^error: cannot write --out .*no-such-folder\/report\.html: ENOENT/m);
    const folder = await cli('report', dispatchId, '--out', dir);
    assert.equal(folder.code, 2, output(folder));
    assert.match(folder.stderr, /is a folder/);
    assert.ok(statSync(existing).isFile());
    assert.deepEqual(readdirSync(dir).sort(), ['kept.html', 'parameters.json', 'spec.json']);

    const neither = await cli('report', dispatchId);
    assert.equal(neither.code, 2, output(neither));
    assert.match(neither.stderr, /give --out FILE\.html/);
  });
});
