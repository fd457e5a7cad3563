import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { ROOT } from '../test/helpers/stack';

export interface WorkerProcess {
  name: string;
  pid: number;
  /** From spawning the process to its first polls seen by the server (to the nearest 0.2 s). */
  startSeconds: number;
  /** Peak resident set so far (VmHWM) and the samples taken, in bytes. */
  memory(): Promise<{ peakRss: number; samples: Array<{ t: number; rss: number }> }>;
  stop(): Promise<void>;
}

/**
 * Starts a worker as a process of its own (so its memory is its own to measure) and resolves once
 * it polls both its workflow and its activity task queue.
 */
export async function startWorkerProcess(
  client: Client,
  options: { name: string; args: string[]; env: NodeJS.ProcessEnv; taskQueue: string; logDir: string },
): Promise<WorkerProcess> {
  mkdirSync(options.logDir, { recursive: true });
  const log = createWriteStream(join(options.logDir, `${options.name}.log`));
  const spawned = performance.now();
  const child = spawn(process.execPath, options.args, {
    cwd: ROOT,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  let exited = false;
  child.once('exit', () => (exited = true));
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${options.name} did not start`);

  const samples: Array<{ t: number; rss: number }> = [];
  const sampler = setInterval(() => {
    void procStatus(pid).then((status) => status && samples.push({ t: Date.now(), rss: status.rss }));
  }, 500);

  const deadline = Date.now() + 180_000;
  while (!(await polled(client, options.taskQueue))) {
    if (exited)
      throw new Error(`${options.name} exited before polling; see ${options.logDir}/${options.name}.log`);
    if (Date.now() > deadline)
      throw new Error(`${options.name} did not poll ${options.taskQueue} within 3 minutes`);
    await delay(200);
  }
  const startSeconds = (performance.now() - spawned) / 1000;

  let peakRss = 0;
  return {
    name: options.name,
    pid,
    startSeconds,
    async memory() {
      const status = await procStatus(pid);
      if (status) peakRss = Math.max(peakRss, status.hwm);
      return { peakRss, samples };
    },
    async stop() {
      const status = await procStatus(pid);
      if (status) peakRss = Math.max(peakRss, status.hwm);
      clearInterval(sampler);
      await stopProcess(child);
    },
  };
}

/** SIGTERM, then SIGKILL after a grace period: a worker may wait on its pollers for a while. */
async function stopProcess(child: ChildProcess, graceMs = 20_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exit;
  clearTimeout(timer);
}

async function procStatus(pid: number): Promise<{ rss: number; hwm: number } | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return undefined;
  }
}

async function polled(client: Client, taskQueue: string): Promise<boolean> {
  const types = [
    temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
  ];
  for (const taskQueueType of types) {
    const answer = await client.workflowService.describeTaskQueue({
      namespace: client.options.namespace,
      taskQueue: { name: taskQueue },
      taskQueueType,
    });
    if (!answer.pollers?.length) return false;
  }
  return true;
}
