import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './stack';

let conf: string | undefined;

/**
 * The project's containers.conf (podman, runc and what they need installed first), for the
 * project's own podman invocations only: set in the environment of the worker that runs them.
 */
export function containersConf(): string {
  conf ??= execFileSync(join(ROOT, 'scripts', 'install-containers.sh'), {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  return conf;
}

/** A test image of images/NAME, built once per recipe (scripts/build-image.sh); its reference. */
export function testImage(name: 'busybox' | 'python'): string {
  return execFileSync(join(ROOT, 'scripts', 'build-image.sh'), [name], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}

/**
 * Containers a worker process started (by their label), in any state: a container being stopped
 * still holds its processes, and one that has ended is removed.
 */
export function containersOf(pid: number): string[] {
  const out = execFileSync(
    'podman',
    [
      'ps',
      '--all',
      '--filter',
      'label=analysis-dispatch.worker',
      '--format',
      '{{.Names}} {{index .Labels "analysis-dispatch.worker"}}',
    ],
    { encoding: 'utf8', env: { ...process.env, CONTAINERS_CONF: containersConf() } },
  );
  return out
    .split('\n')
    .filter((line) => line.split(' ')[1]?.split('/')[1] === String(pid))
    .map((line) => line.split(' ')[0]!);
}
