import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir, hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { AnalysisRecord, StoredRecord, Task } from '../../src/types';
import { selfIdentity, sweepOrphanContainers } from '../../src/analysis/container-runtime';
import { aindErrors } from '../helpers/aind';
import { runCli } from '../helpers/cli';
import { containersConf, containersOf, testImage } from '../helpers/containers';
import { ROOT, testStack, type TestStack } from '../helpers/stack';

const lickRate = JSON.parse(readFileSync(join(ROOT, 'analyses', 'lick_rate.analysis.json'), 'utf8')) as {
  parameters: unknown;
  outputs: unknown;
};
const ANY = { type: 'object' };

/**
 * What an analysis inside can see, kept as result files: its environment, every process's
 * environment and command line under /proc, the processes it sees, the network interfaces, whether
 * /data takes writes, and the task file.
 */
const PROBE = [
  'env > /results/env.txt',
  'cat /proc/*/environ /proc/*/cmdline > /results/proc.txt 2>/dev/null',
  'ls /proc | grep -E "^[0-9]+$" > /results/pids.txt',
  'ls /sys/class/net > /results/net.txt',
  '(touch /data/x 2>/dev/null && echo writable || echo read-only) > /results/data.txt',
  'cp "$ANALYSIS_TASK_FILE" /results/task.json',
  'echo "{\\"home\\": \\"$HOME\\"}" > /results/outputs.json',
].join('; ');

function startWorkerProcess(env: NodeJS.ProcessEnv): { child: ChildProcess; started: Promise<string> } {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'analysis.js'), 'worker'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const started = new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (chunk) => {
      stderr += chunk;
      if (stderr.includes('"worker started"')) resolve(stderr);
    });
    child.once('exit', () => reject(new Error(`worker exited: ${stderr}`)));
  });
  started.catch(() => undefined);
  return { child, started };
}

async function until<T>(what: string, timeoutMs: number, look: () => T | undefined | false): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = look();
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(200);
  }
}

describe('container analyses (podman)', () => {
  let stack: TestStack;
  let dir: string;
  let analyses: string;
  let python: string;
  let busybox: string;
  const records = () =>
    stack.mongo.db(stack.config.DOCDB_DATABASE).collection<StoredRecord>(stack.config.DOCDB_COLLECTION);
  const resultText = async (record: StoredRecord, file: string) => {
    const key = `${new URL(record.location).pathname.slice(1)}/${file}`;
    const answer = await stack.s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: key }));
    return answer.Body!.transformToString();
  };
  const manifest = (file: string, content: Record<string, unknown>) =>
    writeFileSync(join(analyses, file), JSON.stringify({ parameters: ANY, outputs: ANY, ...content }));
  const dispatch = (spec: unknown[], file: string, extra: string[] = []) =>
    runCli(
      [
        'dispatch',
        '--query',
        '{"name": {"$regex": "^licks_"}}',
        '--analysis_spec',
        join(dir, file),
        ...extra,
      ],
      stack.env,
      { timeoutMs: 300_000 },
    ).finally(() => undefined);

  before(async () => {
    process.env.CONTAINERS_CONF = containersConf();
    python = testImage('python');
    busybox = testImage('busybox');
    stack = await testStack('containers');
    dir = mkdtempSync(join(tmpdir(), 'containers-'));
    analyses = mkdtempSync(join(tmpdir(), 'container-analyses-'));
    manifest('lick_rate.analysis.json', {
      ...lickRate,
      name: 'Lick Rate',
      image: python,
      code: join(ROOT, 'analyses'),
      command: ['python3', 'lick_rate.py'],
      download_inputs: ['behavior/licks.json'],
      memory: '256m',
      cpus: 1,
    });
    manifest('probe.analysis.json', { name: 'Probe', image: busybox, command: ['sh', '-c', PROBE] });
    manifest('hog.analysis.json', {
      name: 'Hog',
      image: busybox,
      memory: '16m',
      command: ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1'],
    });
    manifest('missing.analysis.json', {
      name: 'Missing',
      image: 'localhost/analysis-missing:none',
      command: ['true'],
    });
    manifest('sleeper.analysis.json', { name: 'Sleeper', image: busybox, command: ['sleep', '300'] });
    manifest('bare.analysis.json', {
      name: 'Bare Home',
      command: ['sh', '-c', 'echo "{\\"home\\": \\"$HOME\\"}" > "$ANALYSIS_RESULTS_DIR/outputs.json"'],
    });
    manifest('bare_python.analysis.json', {
      name: 'Bare Python',
      command: [join(ROOT, '.dev', 'venv', 'bin', 'python'), '-c', 'pass'],
    });
    stack.env.ANALYSIS_MODULES_DIR = analyses;
    stack.env.CONTAINERS_CONF = process.env.CONTAINERS_CONF;
    const names = ['licks_0', 'licks_1'];
    await stack.mongo
      .db(stack.config.ASSETS_DATABASE)
      .collection(stack.config.ASSETS_COLLECTION)
      .insertMany(
        names.map((name) => ({ _id: name as never, name, location: `s3://${stack.bucket}/data/${name}` })),
      );
    for (const [i, name] of names.entries()) {
      await stack.s3.send(
        new PutObjectCommand({
          Bucket: stack.bucket,
          Key: `data/${name}/behavior/licks.json`,
          Body: JSON.stringify({ lick_times: [0.5, 1, 1.25, 2 + i, 9.5] }),
        }),
      );
    }
  });
  after(async () => stack?.close());

  test("an example analysis runs in its image: the record names the image and the image's libraries", async () => {
    await stack.startWorker({ ANALYSIS_MODULES_DIR: analyses });
    const spec = [
      {
        analysis_name: 'Lick Rate',
        analysis_version: 'c1',
        analysis_parameters: { bin_size_s: 5 },
        analysis_libraries: ['pydantic'],
      },
    ];
    writeFileSync(join(dir, 'lick.json'), JSON.stringify(spec));
    const result = await dispatch(spec, 'lick.json', ['--wait']);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const done = (await records().find({ analysis_version: 'c1' }).toArray()) as AnalysisRecord[];
    assert.equal(done.length, 2);
    const process_ = done[0]!.processing.data_processes[0]!;
    assert.equal(process_.output_parameters.lick_count, 5);
    assert.equal(process_.output_parameters.bin_size_s, 5);
    const container = process_.code.container!;
    assert.equal(container.object_type, 'Container');
    assert.equal(container.uri.split('@')[0], python.split(':')[0]);
    assert.match(container.uri, /@sha256:[0-9a-f]{64}$/);
    assert.equal(container.tag, python.split(':')[1]);
    // Debian's pydantic in the image (1.10), not the workers' 2.x or an npm package of the name.
    assert.match(done[0]!.libraries.pydantic ?? '', /^1\.10\./);
    assert.match(process_.code.language_version ?? '', /^Python 3\.11/);
    assert.ok((done[0]!.run_resources?.cpu_time_s ?? 0) > 0, 'CPU time measured from the container');
    assert.ok((done[0]!.run_resources?.peak_memory_mib ?? 0) > 1, 'memory measured from the container');
    assert.deepEqual(aindErrors('Metadata', done), [[], []]);
    assert.match(await resultText(done[0]!, 'lick_rate.csv'), /bin_start_s|,/);
  });

  test("an analysis inside sees its layout and nothing of the worker's: no secret in its environment or /proc", async () => {
    const secret = process.env.AWS_SECRET_ACCESS_KEY;
    assert.ok(secret, 'the stack gives the worker an AWS secret');
    const spec = [{ analysis_name: 'Probe', analysis_version: 'p1' }];
    writeFileSync(join(dir, 'probe.json'), JSON.stringify(spec));
    const result = await dispatch(spec, 'probe.json', ['--wait']);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const [record] = (await records().find({ analysis_version: 'p1' }).toArray()) as AnalysisRecord[];
    const env = await resultText(record!, 'env.txt');
    const proc = await resultText(record!, 'proc.txt');
    assert.ok(proc.length > 0, 'the probe read /proc');
    for (const [what, text] of [
      ['environment', env],
      ['/proc', proc],
    ] as const) {
      assert.ok(!text.includes(secret), `the secret shows in the container's ${what}`);
      assert.ok(!text.includes('MONGODB_URI'), `the worker's settings show in the container's ${what}`);
    }
    assert.match(env, /^ANALYSIS_RESULTS_DIR=\/results$/m);
    assert.match(env, /^ANALYSIS_INPUT_DIR=\/data$/m);
    assert.match(env, new RegExp(`^ANALYSIS_TASK_FILE=/data/job_dict/${record!._id}\\.json$`, 'm'));
    assert.ok(!env.includes(homedir()), "the worker's HOME");
    assert.ok(
      (await resultText(record!, 'pids.txt')).trim().split('\n').length <= 3,
      'its own processes only',
    );
    assert.equal((await resultText(record!, 'net.txt')).trim(), 'lo');
    assert.equal((await resultText(record!, 'data.txt')).trim(), 'read-only');
    const task = JSON.parse(await resultText(record!, 'task.json')) as Task;
    assert.equal(task.hash, record!._id);
    assert.deepEqual(aindErrors('AnalysisDispatchModel', [task]), [[]]);
  });

  test('a container past its memory limit fails, saying so, and is not retried', async () => {
    const spec = [{ analysis_name: 'Hog', analysis_version: 'h1' }];
    writeFileSync(join(dir, 'hog.json'), JSON.stringify(spec));
    const result = await dispatch(spec, 'hog.json', ['--wait', '--json']);
    assert.notEqual(result.code, 0);
    const status = await runCli(['status', JSON.parse(result.stdout).dispatch_id, '--json'], stack.env);
    assert.match(
      status.stdout,
      /killed for running out of memory: its container reached its limit of 16 MiB/,
    );
    assert.equal(await records().countDocuments({ analysis_version: 'h1' }), 0);
  });

  test('an image neither on the worker nor pullable fails the task, naming the image', async () => {
    const spec = [{ analysis_name: 'Missing', analysis_version: 'm1' }];
    writeFileSync(join(dir, 'missing.json'), JSON.stringify(spec));
    const result = await dispatch(spec, 'missing.json', ['--wait', '--json']);
    assert.notEqual(result.code, 0);
    const status = await runCli(['status', JSON.parse(result.stdout).dispatch_id, '--json'], stack.env);
    assert.match(
      status.stdout,
      /Image \\"localhost\/analysis-missing:none\\" is not on this worker and could not be pulled/,
    );
  });

  test('cancel stops the running containers', async () => {
    const spec = [{ analysis_name: 'Sleeper', analysis_version: 's1' }];
    writeFileSync(join(dir, 'sleep.json'), JSON.stringify(spec));
    const started = await dispatch(spec, 'sleep.json', ['--json']);
    assert.equal(started.code, 0, started.stderr);
    await until('the containers to run', 60_000, () => containersOf(process.pid).length === 2);
    const cancelled = await runCli(['cancel', JSON.parse(started.stdout).dispatch_id], stack.env);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    await until('the containers to stop', 20_000, () => containersOf(process.pid).length === 0);
  });

  test('bare commands: a HOME of their own, library versions from their interpreter, refused where containers are required', async () => {
    const { child, started } = startWorkerProcess({
      ...stack.env,
      ANALYSIS_REQUIRE_CONTAINERS: '1',
      LOG_LEVEL: 'info',
    });
    const log = await started;
    child.kill('SIGTERM');
    assert.match(
      log,
      /bare command analyses not served.*ANALYSIS_REQUIRE_CONTAINERS=1\): Bare Home, Bare Python/,
    );

    await stack.startWorker({ ANALYSIS_MODULES_DIR: analyses });
    const spec = [{ analysis_name: 'Bare Home', analysis_version: 'b1' }];
    writeFileSync(join(dir, 'bare.json'), JSON.stringify(spec));
    const result = await dispatch(spec, 'bare.json', ['--wait']);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const [record] = (await records().find({ analysis_version: 'b1' }).toArray()) as AnalysisRecord[];
    const home = String(record!.processing.data_processes[0]!.output_parameters.home);
    assert.notEqual(home, homedir());
    assert.ok(home.startsWith(stack.config.ANALYSIS_WORK_DIR!), home);

    const libraries = [
      { analysis_name: 'Bare Python', analysis_version: 'l1', analysis_libraries: ['pydantic', 'zod'] },
    ];
    writeFileSync(join(dir, 'libs.json'), JSON.stringify(libraries));
    const planned = await runCli(
      ['plan', '--query', '{"name": "licks_0"}', '--analysis_spec', join(dir, 'libs.json'), '--json'],
      stack.env,
    );
    assert.equal(planned.code, 0, planned.stderr);
    const [task] = (JSON.parse(planned.stdout) as { tasks: Array<{ task: Task }> }).tasks.map((t) => t.task);
    assert.match(task!.libraries.pydantic ?? '', /^2\./);
    assert.equal(task!.libraries.zod, 'not installed');
  });
  test('a worker killed with SIGKILL leaves no container running', async (t) => {
    for (const worker of stack.workers) worker.shutdown();
    const { child, started } = startWorkerProcess({
      ...stack.env,
      ANALYSIS_MODULES_DIR: analyses,
      LOG_LEVEL: 'info',
    });
    await started;
    const spec = [{ analysis_name: 'Sleeper', analysis_version: 's2' }];
    writeFileSync(join(dir, 'sleep2.json'), JSON.stringify(spec));
    const dispatched = await dispatch(spec, 'sleep2.json', ['--json']);
    assert.equal(dispatched.code, 0, dispatched.stderr);
    await until('the containers to run', 60_000, () => containersOf(child.pid!).length === 2);
    child.kill('SIGKILL');
    const began = Date.now();
    await until('the containers to stop', 20_000, () => containersOf(child.pid!).length === 0);
    t.diagnostic(`containers gone ${Date.now() - began} ms after the worker's SIGKILL`);
  });

  test("a worker's start-up sweep removes containers of dead workers of its host, and only those", async () => {
    const run = (owner: string) =>
      execFileSync(
        'podman',
        ['run', '--detach', '--rm', '--label', `analysis-dispatch.worker=${owner}`, busybox, 'sleep', '300'],
        { encoding: 'utf8' },
      ).trim();
    const dead = run(`${hostname()}/999999999/1`);
    const living = run(selfIdentity());
    const elsewhere = run('another-host/1/1');
    try {
      assert.equal(await sweepOrphanContainers('podman'), 1);
      const left = execFileSync('podman', ['ps', '--all', '--no-trunc', '--format', '{{.ID}}'], {
        encoding: 'utf8',
      });
      assert.ok(!left.includes(dead), "the dead worker's container is gone");
      assert.ok(left.includes(living) && left.includes(elsewhere), 'the others are kept');
    } finally {
      execFileSync('podman', ['rm', '--force', '--ignore', '--time', '0', dead, living, elsewhere], {
        stdio: 'ignore',
      });
    }
  });
});
