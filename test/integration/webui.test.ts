import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { launchBrowser, type Browser } from '../helpers/browser';
import { runCli } from '../helpers/cli';
import { seedAssets, writeSpec } from '../helpers/data';
import { ROOT, testStack, type TestStack } from '../helpers/stack';
import type { DispatchProgress } from '../../src/workflows/messages';

/**
 * The Temporal Web UI, checked for real: a dispatch on the local stack is looked up in headless
 * Chromium by its `DispatchId` and its `AnalysisName`, and its page shows its static summary.
 * Screenshots go to test-output/webui/.
 */

const FIXTURES = join(ROOT, 'test', 'fixtures', 'analyses');
const SHOTS = join(ROOT, 'test-output', 'webui');
const UI_PORT = process.env.TEMPORAL_UI_PORT ?? process.env.DEV_TEMPORAL_UI_PORT ?? '8233';
const UI = `http://127.0.0.1:${UI_PORT}`;
const NAMESPACE = process.env.TEMPORAL_NAMESPACE ?? 'default';
/** The UI is a single-page app: rendering and visibility both take a moment. */
const UI_TIMEOUT_MS = 30_000;

function listUrl(query: string): string {
  return `${UI}/namespaces/${encodeURIComponent(NAMESPACE)}/workflows?query=${encodeURIComponent(query)}`;
}

interface ListResponse {
  executions?: Array<{ execution?: { workflowId?: string } }>;
}

/** Text of the page, whitespace collapsed, for failure messages. */
async function pageText(page: Page): Promise<string> {
  const text = await page
    .locator('body')
    .innerText({ timeout: 2_000 })
    .catch(() => '');
  return text.replace(/\s+/g, ' ').trim().slice(0, 2_000);
}

/**
 * Searches workflows, and repeats the search until `ready` holds for the workflow ids the page lists
 * (visibility indexes a moment after a workflow starts or closes). `typed` enters the query in the
 * list page's raw query box, as a user does, instead of opening the search's URL; it saves booting
 * the app again (several seconds on a busy machine). Returns the ids shown.
 */
async function searchWorkflows(
  page: Page,
  options: {
    query: string;
    idPattern: RegExp;
    ready: (ids: string[]) => boolean;
    shot: string;
    typed?: boolean;
  },
): Promise<string[]> {
  const { query, idPattern, ready, shot } = options;
  const deadline = Date.now() + UI_TIMEOUT_MS;
  const remaining = () => Math.max(1, deadline - Date.now());
  const listApi = `${UI}/api/v1/namespaces/${encodeURIComponent(NAMESPACE)}/workflows?`;
  const pick = (texts: string[] = []) =>
    [...new Set(texts.map((text) => text.trim()).filter((text) => idPattern.test(text)))].sort();
  let ids: string[] = [];
  for (let attempt = 0; ; attempt++) {
    // The page asks the server for the list once it has booted or the query changed.
    const listed = page.waitForResponse(
      (response) =>
        response.url().startsWith(listApi) && new URL(response.url()).searchParams.get('query') === query,
      { timeout: remaining() },
    );
    if (attempt > 0) {
      await page.reload({ timeout: remaining() });
    } else if (options.typed) {
      const input = page.getByTestId('workflow-manual-search-input');
      if (!(await input.isVisible()))
        await page.getByTestId('toggle-manual-query').click({ timeout: remaining() });
      await input.fill(query, { timeout: remaining() });
      await page
        .getByRole('search')
        .getByRole('button', { name: 'Search', exact: true })
        .click({ timeout: remaining() });
    } else {
      await page.goto(listUrl(query), { timeout: remaining() });
    }
    const response = await listed.catch(() => undefined);
    // What the server answered, of the workflows this search is about.
    const body = (await response?.json().catch(() => undefined)) as ListResponse | undefined;
    const answered = body ? pick(body.executions?.map((e) => e.execution?.workflowId ?? '')) : undefined;
    // A row per workflow, its Workflow ID column a link whose text is the id. The rows can still be
    // those of the previous search for a moment: wait until the page agrees with the answer.
    const shown = async () => pick(await page.getByRole('link', { name: idPattern }).allInnerTexts());
    ids = await shown();
    while (answered && ids.join() !== answered.join() && Date.now() < deadline) {
      await page.waitForTimeout(200);
      ids = await shown();
    }
    if (answered && ids.join() !== answered.join()) {
      await page.screenshot({ path: join(SHOTS, shot), fullPage: true });
      assert.fail(
        `the page lists ${ids.join(', ') || 'nothing'}, the server answered ${answered.join(', ') || 'nothing'}`,
      );
    }
    if (ready(ids) || Date.now() >= deadline) break;
    await page.waitForTimeout(Math.min(1_000, remaining()));
  }
  await page.screenshot({ path: join(SHOTS, shot), fullPage: true });
  return ids;
}

/** Waits for a locator to be visible; on timeout, fails with what the page showed instead. */
async function expectVisible(page: Page, locator: Locator, what: string, shot: string): Promise<void> {
  try {
    await locator.first().waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS });
  } catch {
    await page.screenshot({ path: join(SHOTS, shot), fullPage: true }).catch(() => undefined);
    assert.fail(
      `the Web UI did not show ${what} at ${page.url()} (screenshot ${shot}); page: ${await pageText(page)}`,
    );
  }
}

void describe('Temporal Web UI', () => {
  let stack: TestStack;
  let browserLaunch: Promise<Browser> | undefined;
  let page: Page;
  let dispatchId: string;
  let jobs: number;
  let startedAfter: string;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    // Chromium starts while the dispatch runs.
    browserLaunch = launchBrowser();
    browserLaunch.catch(() => undefined);
    stack = await testStack('webui');
    stack.env.ANALYSIS_MODULES_DIR = FIXTURES;
    await stack.startWorker({ ANALYSIS_MODULES_DIR: FIXTURES });
    await seedAssets(stack, { count: 3, files: ['data/units.csv'] });
    const dir = mkdtempSync(join(tmpdir(), 'webui-test-'));
    const spec = writeSpec(dir, [{ analysis_name: 'Noop', analysis_version: '1.0.0' }]);
    // Leaves a margin for the clocks of test and server.
    startedAfter = new Date(Date.now() - 60_000).toISOString();
    const run = await runCli(
      ['dispatch', '--query', '{"name": {"$regex": "^asset_"}}', '--analysis_spec', spec, '--wait', '--json'],
      stack.env,
      { timeoutMs: 60_000 },
    );
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const output = JSON.parse(run.stdout) as {
      dispatch_id: string;
      url: string;
      progress?: DispatchProgress;
    };
    dispatchId = output.dispatch_id;
    jobs = output.progress?.plan?.jobs ?? 0;
    assert.match(output.url, new RegExp(`/namespaces/${NAMESPACE}/workflows/dispatch-${dispatchId}$`));

    page = await (await browserLaunch).context.newPage();
    // The UI fetches a news feed from the internet; nothing but the local UI is reachable here.
    await page.route(
      (url) => url.hostname !== '127.0.0.1' && url.hostname !== 'localhost',
      (route) => route.abort(),
    );
  });

  after(async () => {
    await (await browserLaunch?.catch(() => undefined))?.close();
    await stack?.close();
  });

  void test('lists the dispatch and its jobs by DispatchId', async () => {
    assert.equal(jobs, 3, 'three assets, one task per job');
    const workflowId = `dispatch-${dispatchId}`;
    const expected = [workflowId, ...Array.from({ length: jobs }, (_, i) => `${workflowId}-job-${i}`)].sort();
    const ids = await searchWorkflows(page, {
      query: `DispatchId="${dispatchId}"`,
      idPattern: new RegExp(`^${workflowId}(-job-\\d+)?$`),
      ready: (shown) => shown.length >= expected.length,
      shot: 'list-dispatch-id.png',
    });
    assert.deepEqual(
      ids,
      expected,
      `workflows listed for DispatchId="${dispatchId}"; page: ${await pageText(page)}`,
    );
    const row = page
      .getByRole('row')
      .filter({ has: page.getByRole('link', { name: workflowId, exact: true }) });
    const cells = (await row.first().innerText()).replace(/\s+/g, ' ');
    assert.match(cells, /COMPLETED/);
    assert.match(cells, /\bdispatch\b/);
  });

  void test("opens the dispatch from the list: its summary, details and jobs' summaries", async () => {
    const workflowId = `dispatch-${dispatchId}`;
    const link = page.getByRole('link', { name: workflowId, exact: true });
    if (!(await link.count())) await page.goto(listUrl(`DispatchId="${dispatchId}"`));
    await link.first().click({ timeout: UI_TIMEOUT_MS });
    await expectVisible(
      page,
      page.getByRole('heading', { name: workflowId }),
      'the workflow page',
      'workflow-failed.png',
    );

    // The timeline names each child workflow by its summary.
    for (let i = 1; i <= jobs; i++) {
      await expectVisible(
        page,
        page.getByText(`job ${i} of ${jobs} · Noop`),
        `job ${i}'s summary in the timeline`,
        'timeline-failed.png',
      );
    }
    await page.screenshot({ path: join(SHOTS, 'workflow-timeline.png'), fullPage: true });

    // Summary and details are on the "User Metadata" tab of UI 2.x, each markdown rendered in an
    // iframe of its own.
    await page.getByRole('tab', { name: 'User Metadata' }).click({ timeout: UI_TIMEOUT_MS });
    // The summary ends with the dispatch's priority (3, the default), which the Web UI shows as is.
    const summary = page
      .frameLocator('#user-metadata-summary')
      .getByText('dispatch · Noop · priority 3', { exact: true });
    await expectVisible(page, summary, 'the summary', 'summary-failed.png');
    const details = page
      .frameLocator('#user-metadata-details')
      .getByText(/^Analyses: Noop 1\.0\.0;.*; priority 3, fairness key \S+$/);
    await expectVisible(page, details, 'the details', 'summary-failed.png');
    await page.screenshot({ path: join(SHOTS, 'workflow-summary.png'), fullPage: true });
  });

  void test('finds the dispatch by AnalysisName', async () => {
    const workflowId = `dispatch-${dispatchId}`;
    // Back to the list, and a new search typed in its raw query box. Limited to recent workflows:
    // the dev server keeps the Noop dispatches of earlier runs.
    const back = page.getByRole('link', { name: 'Back to Workflows' });
    const typed = (await back.count()) > 0;
    if (typed) await back.first().click();
    const ids = await searchWorkflows(page, {
      query: `AnalysisName="Noop" AND StartTime >= "${startedAfter}"`,
      idPattern: new RegExp(`^${workflowId}$`),
      ready: (shown) => shown.includes(workflowId),
      shot: 'list-analysis-name.png',
      typed,
    });
    assert.deepEqual(
      ids,
      [workflowId],
      `AnalysisName="Noop" did not list ${workflowId}; page: ${await pageText(page)}`,
    );
  });
});
