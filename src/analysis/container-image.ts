import { ErrorType, nonRetryable } from '../errors';
import type { ContainerRuntime } from './container-options';
import { lastLines, runtimeCall, selfIdentity, WORKER_LABEL } from './container-runtime';

export interface ImageFacts {
  /** The image's content digest (`sha256:...`): of its manifest where the runtime knows it. */
  digest: string;
}

const images = new Map<string, Promise<ImageFacts>>();

async function inspectImage(runtime: ContainerRuntime, image: string): Promise<ImageFacts | undefined> {
  try {
    const { stdout } = await runtimeCall(runtime, [
      'image',
      'inspect',
      '--format',
      '{{.Id}}|{{json .RepoDigests}}',
      image,
    ]);
    const [id = '', repoDigests = '[]'] = stdout.trim().split('|');
    const digests = (JSON.parse(repoDigests) as string[] | null) ?? [];
    const digest = digests.map((entry) => entry.split('@')[1]).find(Boolean);
    return { digest: digest ?? (id.startsWith('sha256:') ? id : `sha256:${id}`) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw nonRetryable(
        ErrorType.CommandNotFound,
        `Cannot run containers: the runtime "${runtime}" is not installed on this worker`,
      );
    }
    return undefined;
  }
}

/**
 * The image on this worker, pulled when missing: once per worker process, so a missing image
 * costs every task one quick look rather than a pull each. Missing after its pull, the failure
 * names the image and does not retry (a retry would find it missing again).
 */
export function ensureImage(
  runtime: ContainerRuntime,
  image: string,
  log?: (message: string, fields?: Record<string, unknown>) => void,
): Promise<ImageFacts> {
  const key = `${runtime}\0${image}`;
  let facts = images.get(key);
  if (!facts) {
    facts = (async () => {
      const present = await inspectImage(runtime, image);
      if (present) return present;
      log?.('pulling image', { image, runtime });
      let why = '';
      try {
        await runtimeCall(runtime, ['pull', '--quiet', image], 30 * 60_000);
      } catch (err) {
        why = lastLines((err as { stderr?: string }).stderr || (err as Error).message, 1);
      }
      const pulled = await inspectImage(runtime, image);
      if (pulled) return pulled;
      throw nonRetryable(
        ErrorType.ImageNotFound,
        `Image "${image}" is not on this worker and could not be pulled${why ? `: ${why}` : ''}`,
      );
    })();
    images.set(key, facts);
  }
  return facts;
}

/**
 * Runs a short command in an image, with neither network nor capabilities, for what the image holds
 * (its interpreter's version, its libraries'); answers its stdout.
 */
export async function runInImage(runtime: ContainerRuntime, image: string, argv: string[]): Promise<string> {
  await ensureImage(runtime, image);
  const { stdout } = await runtimeCall(
    runtime,
    [
      'run',
      '--rm',
      '--label',
      `${WORKER_LABEL}=${selfIdentity()}`,
      '--network',
      'none',
      '--cap-drop',
      'all',
      '--log-driver',
      'none',
      image,
      ...argv,
    ],
    60_000,
  );
  return stdout;
}
