import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProgram } from '../src/analysis/command';
import { runContainer } from '../src/analysis/container';

const ROOT = join(__dirname, '..');

export interface ContainerResult {
  runs: number;
  image: string;
  /** A bare command (`true`) run the way the worker runs one: under its watchdog. */
  bareMedianSeconds: number;
  /** The same command in the busybox test image, the way the worker runs one (create, start, rm). */
  containerMedianSeconds: number;
  /** `podman run --rm IMAGE true` from a shell, the floor of any container run here. */
  podmanRunMedianSeconds: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function timed(runs: number, once: () => Promise<unknown>): Promise<number> {
  await once();
  const seconds: number[] = [];
  for (let run = 0; run < runs; run++) {
    const began = performance.now();
    await once();
    seconds.push((performance.now() - began) / 1000);
  }
  return median(seconds);
}

/**
 * P6: what running a task's command in a container costs the worker, beside running it bare:
 * the same trivial command (`true`) through the worker's own code for each, medians of `runs` runs
 * after a warm-up; and `podman run --rm` of it for the runtime's own floor.
 */
export async function benchContainers(runs: number): Promise<ContainerResult> {
  const conf = execFileSync(join(ROOT, 'scripts', 'install-containers.sh'), { encoding: 'utf8' }).trim();
  process.env.CONTAINERS_CONF = conf;
  const image = execFileSync(join(ROOT, 'scripts', 'build-image.sh'), ['busybox'], {
    encoding: 'utf8',
  }).trim();
  const dir = await mkdtemp(join(tmpdir(), 'bench-containers-'));
  try {
    const layout = {
      dataDir: join(dir, 'data'),
      resultsDir: join(dir, 'results'),
      scratchDir: join(dir, 'scratch'),
      taskFileName: 'task.json',
    };
    for (const folder of [layout.dataDir, layout.resultsDir, layout.scratchDir])
      await mkdir(folder, { recursive: true });
    const common = {
      cwd: dir,
      workDir: dir,
      signal: new AbortController().signal,
      heartbeat: () => undefined,
      log: () => undefined,
      stdoutPath: join(dir, 'stdout.log'),
      stderrPath: join(dir, 'stderr.log'),
    };
    const bareMedianSeconds = await timed(runs, () =>
      runProgram({ ...common, program: 'true', args: [], env: { PATH: process.env.PATH ?? '' } }),
    );
    const containerMedianSeconds = await timed(runs, () =>
      runContainer({
        ...common,
        runtime: 'podman',
        spec: { image, network: false },
        command: ['true'],
        layout,
        analysisName: 'bench',
      }),
    );
    const podmanRunMedianSeconds = await timed(runs, async () => {
      const done = spawnSync('podman', ['run', '--rm', '--network', 'none', image, 'true']);
      if (done.status !== 0) throw new Error(`podman run exited ${done.status}: ${String(done.stderr)}`);
    });
    return { runs, image, bareMedianSeconds, containerMedianSeconds, podmanRunMedianSeconds };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
