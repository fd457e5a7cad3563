import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import type { DispatchNotice } from '../../src/activities/notify';
import { NOTIFY_TARGET_COLLECTION } from '../../src/storage/notify-targets';
import { REQUEST_COLLECTION } from '../../src/storage/request-store';
import { dispatchWorkflowId, jobWorkflowId } from '../../src/workflow-ids';
import { exportHistory, runIds, searchableHistory } from '../faults/helpers/temporal-cli';
import { runCli, type CliResult } from '../helpers/cli';
import { seedAssets, writeSpec } from '../helpers/data';
import { FIXTURE_ANALYSES, testStack, type TestStack } from '../helpers/stack';

/**
 * A webhook as chat services offer them: the token is in the path. The first POST of each path
 * is answered 503, as a chat service that is briefly down, so delivery is retried; `/gone/` paths
 * answer 404 (a deleted webhook) every time.
 */
function webhook() {
  const received: Array<{ path: string; body: DispatchNotice; type: string }> = [];
  const seen = new Set<string>();
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const path = request.url ?? '';
      if (path.startsWith('/gone/')) return void response.writeHead(404).end();
      if (!seen.has(path)) {
        seen.add(path);
        return void response.writeHead(503).end();
      }
      received.push({
        path,
        body: JSON.parse(body) as DispatchNotice,
        type: request.headers['content-type'] ?? '',
      });
      response.writeHead(200).end('ok');
    });
  });
  return { server, received };
}

describe('notifications when a dispatch ends', () => {
  let stack: TestStack;
  let dir: string;
  let hook: ReturnType<typeof webhook>;
  let base: string;
  const token = `T${randomBytes(12).toString('hex')}`;
  const outputs: Array<[string, CliResult]> = [];
  const dispatchIds: string[] = [];

  const spec = (name: string) =>
    writeSpec(dir, [{ analysis_name: name, analysis_version: '1', max_attempts: 1 }], `${name}.json`);
  async function dispatch(name: string, extra: string[], env: NodeJS.ProcessEnv = stack.env) {
    const result = await runCli(
      [
        'dispatch',
        '--query',
        '{"name": {"$regex": "^note_"}}',
        '--analysis_spec',
        spec(name),
        '--wait',
        '--json',
        ...extra,
      ],
      env,
    );
    outputs.push([`dispatch ${name}`, result]);
    const id = (JSON.parse(result.stdout) as { dispatch_id: string }).dispatch_id;
    dispatchIds.push(id);
    return { result, id };
  }
  async function noticeFor(id: string): Promise<{ path: string; body: DispatchNotice; type: string }> {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const found = hook.received.find((entry) => entry.body.dispatch_id === id);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no notification of ${id}`);
      await sleep(250);
    }
  }

  before(async () => {
    stack = await testStack('notify');
    stack.env.ANALYSIS_MODULES_DIR = FIXTURE_ANALYSES;
    await stack.startWorker({ ANALYSIS_MODULES_DIR: FIXTURE_ANALYSES });
    await seedAssets(stack, { count: 3, namePrefix: 'note' });
    dir = mkdtempSync(join(tmpdir(), 'notify-'));
    hook = webhook();
    await new Promise<void>((resolve) => hook.server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(hook.server.address() as AddressInfo).port}`;
  });
  after(async () => {
    hook?.server.close();
    await stack?.close();
  });

  test('a succeeded dispatch POSTs one JSON message, delivered on a retry after a 503', async () => {
    const { result, id } = await dispatch('Noop', ['--notify', `${base}/hooks/ok/${token}`]);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const notice = await noticeFor(id);
    assert.equal(notice.path, `/hooks/ok/${token}`);
    assert.equal(notice.type, 'application/json');
    const body = notice.body;
    assert.equal(body.status, 'completed');
    assert.deepEqual(body.counts, { succeeded: 3, skipped: 0, changed_code: 0, failed: 0, cancelled: 0 });
    assert.equal(body.tasks_to_run, 3);
    assert.ok(body.elapsed_s > 0 && body.elapsed_s < 120, `elapsed ${body.elapsed_s}`);
    assert.equal(body.report_command, `analysis report ${id} --out report-${id}.html`);
    assert.equal(body.failure_groups, undefined);
    assert.match(
      body.text,
      new RegExp(
        `^dispatch ${id} \\(Noop\\) completed: 3 succeeded, 0 failed, 0 skipped of 3 tasks in \\d+ s\\. Report: analysis report ${id} `,
      ),
    );
    assert.ok(!body.text.includes('\n'));
    assert.equal(hook.received.filter((entry) => entry.body.dispatch_id === id).length, 1, 'one message');
  });

  test('a failed dispatch notifies ANALYSIS_NOTIFY_URL with its failures grouped by cause', async () => {
    const { result, id } = await dispatch('Always Fails', [], {
      ...stack.env,
      ANALYSIS_NOTIFY_URL: `${base}/hooks/env/${token}`,
    });
    assert.equal(result.code, 1, result.stderr + result.stdout);
    const { path, body } = await noticeFor(id);
    assert.equal(path, `/hooks/env/${token}`);
    assert.equal(body.status, 'failed');
    assert.equal(body.counts.failed, 3);
    assert.match(body.error ?? '', /3 of 3 tasks failed/);
    const group = body.failure_groups?.groups[0];
    assert.equal(group?.count, 3);
    assert.deepEqual([...(group?.example_assets ?? [])].sort(), ['note_0000', 'note_0001', 'note_0002']);
    assert.match(
      body.text,
      new RegExp(
        `^dispatch ${id} \\(Always Fails\\) failed: 0 succeeded, 3 failed, 0 skipped of 3 tasks in \\d+ s; most failures: .+\\. Report: `,
      ),
    );
  });

  test('an endpoint that refuses the message does not fail the dispatch', async () => {
    const { result, id } = await dispatch('Noop', ['--notify', `${base}/gone/${token}`, '--force', '1']);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const handle = stack.client.workflow.getHandle(dispatchWorkflowId(id));
    const { events } = await handle.fetchHistory();
    const failed = events?.find((event) => event.activityTaskFailedEventAttributes);
    assert.match(failed?.activityTaskFailedEventAttributes?.failure?.message ?? '', /answered HTTP 404/);
  });

  test('the address is in no output, no history payload and no error; the database keeps it apart', async () => {
    assert.equal(dispatchIds.length, 3, 'the dispatches above ran');
    for (const [what, output] of outputs) assert.ok(!(output.stdout + output.stderr).includes(token), what);
    let payloads = 0;
    let seen = '';
    for (const id of dispatchIds) {
      const workflowId = dispatchWorkflowId(id);
      const histories = [
        ...(await Promise.all((await runIds(workflowId)).map((runId) => exportHistory(workflowId, runId)))),
        ...(await Promise.all([0, 1, 2].map((job) => exportHistory(jobWorkflowId(workflowId, job))))),
      ];
      for (const exported of histories) {
        const history = searchableHistory(exported);
        assert.deepEqual(history.unreadable, []);
        payloads += history.payloads;
        assert.ok(!history.text.includes(token), `the token is in a history of ${id}`);
        seen += history.text;
      }
      const description = await stack.client.workflow.getHandle(workflowId).describe();
      assert.ok(!JSON.stringify(description.raw).includes(token));
    }
    assert.ok(payloads > 20, `payloads decoded: ${payloads}`);
    // The search reads decoded payloads: the reference the workflow carries instead is there.
    for (const id of dispatchIds) assert.ok(seen.includes(`"notify":"${id}"`), `the reference of ${id}`);
    assert.match(seen, /"report_command":|"progress":\{/, 'the activity input was read');
    const saved = await stack.mongo
      .db(stack.config.DOCDB_DATABASE)
      .collection(NOTIFY_TARGET_COLLECTION)
      .countDocuments();
    assert.equal(saved, 3, 'each address is saved under its dispatch id');
  });

  test('bad input: a priority outside 1..5 or a notify URL that is not http(s) exits 2, writing nothing', async () => {
    const db = stack.mongo.db(stack.config.DOCDB_DATABASE);
    const before = {
      requests: await db.collection(REQUEST_COLLECTION).countDocuments(),
      targets: await db.collection(NOTIFY_TARGET_COLLECTION).countDocuments(),
    };
    const common = ['--query', '{}', '--analysis_spec', spec('Noop')];
    for (const [args, named] of [
      [
        ['dispatch', ...common, '--priority', '0'],
        /--priority must be a whole number from 1 \(runs first\) to 5, got "0"/,
      ],
      [['dispatch', ...common, '--priority', '6'], /--priority .* got "6"/],
      [
        ['dispatch', ...common, '--notify', `ftp://${token}.example.org/x`],
        /--notify must be an http:\/\/ or https:\/\/ URL/,
      ],
      [
        ['schedule', 'create', `nightly-${stack.name}`, '--every', '1d', ...common, '--priority', 'urgent'],
        /--priority .* got "urgent"/,
      ],
      [
        [
          'schedule',
          'create',
          `nightly-${stack.name}`,
          '--every',
          '1d',
          ...common,
          '--notify',
          `mailto:${token}@example.org`,
        ],
        /--notify must be/,
      ],
      [['retry', dispatchIds[0] ?? 'none', '--priority', '9'], /--priority .* got "9"/],
      [['retry', dispatchIds[0] ?? 'none', '--notify', `file:///${token}`], /--notify must be/],
    ] as const) {
      const result = await runCli([...args], stack.env);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, named);
      assert.ok(!(result.stdout + result.stderr).includes(token), 'a bad address is not repeated');
    }
    const refused = await runCli(['dispatch', ...common, '--wait'], {
      ...stack.env,
      ANALYSIS_NOTIFY_URL: 'slack-hook',
    });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /ANALYSIS_NOTIFY_URL must be an http:\/\/ or https:\/\/ URL/);
    assert.deepEqual(
      {
        requests: await db.collection(REQUEST_COLLECTION).countDocuments(),
        targets: await db.collection(NOTIFY_TARGET_COLLECTION).countDocuments(),
      },
      before,
    );
    const schedules = await runCli(['schedule', 'list', '--json'], stack.env);
    assert.ok(!schedules.stdout.includes(`nightly-${stack.name}`), 'no schedule was created');
  });
});
