import { z } from 'zod';

/** The programs a worker may run containers with; both take the same arguments for what is used. */
export const CONTAINER_RUNTIMES = ['podman', 'docker'] as const;
export type ContainerRuntime = (typeof CONTAINER_RUNTIMES)[number];

/**
 * `[registry[:port]/]path[:tag][@sha256:digest]`, lower-case path components, as the OCI
 * distribution rules and both runtimes accept; anything else (spaces, upper case, a leading dash
 * that a runtime would read as a flag) is refused before a runtime ever sees it.
 */
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const REGISTRY =
  '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)';
const IMAGE_REFERENCE = new RegExp(
  `^(${REGISTRY}?${COMPONENT}(?:/${COMPONENT})*)(?::([\\w][\\w.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$`,
);

export interface ImageReference {
  /** Registry and path, without tag or digest. */
  repository: string;
  tag?: string;
  digest?: string;
}

export function parseImageReference(reference: string): ImageReference | undefined {
  const match = IMAGE_REFERENCE.exec(reference);
  if (!match || reference.length > 255) return undefined;
  const [, repository = '', tag, digest] = match;
  return { repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };
/** The runtimes' own floor: below it a container cannot even start. */
const MIN_MEMORY_BYTES = 6 * 2 ** 20;

/** `512m`, `2g`, `1.5GiB`, `300 MB` (binary units, as the runtimes read them) to bytes. */
export function parseMemory(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)(?:i?b)?$/i.exec(text.trim());
  if (!match) return undefined;
  const bytes = Math.floor(Number(match[1]) * (UNITS[(match[2] ?? '').toLowerCase()] ?? NaN));
  return Number.isFinite(bytes) && bytes >= MIN_MEMORY_BYTES ? bytes : undefined;
}

/** What a manifest says of the container its command runs in. */
export const containerFields = {
  image: z
    .string({ error: 'must be a string' })
    .refine((value) => parseImageReference(value) !== undefined, {
      error:
        'must be an image reference like "registry.example.org/lab/analysis:1.2" (lower case, no spaces)',
    })
    .optional(),
  runtime: z
    .enum(CONTAINER_RUNTIMES, { error: `must be one of ${CONTAINER_RUNTIMES.join(', ')}` })
    .optional(),
  cpus: z.number({ error: 'must be a number of CPUs, like 2 or 0.5' }).positive('must be above 0').optional(),
  memory: z
    .string({ error: 'must be a string like "512m" or "4g"' })
    .refine((value) => parseMemory(value) !== undefined, {
      error: 'must be a size like "512m" or "4g" (6m at least)',
    })
    .optional(),
  gpus: z
    .union([z.int().positive(), z.literal('all')], { error: 'must be a whole number of GPUs or "all"' })
    .optional(),
  network: z.boolean({ error: 'must be true or false' }).optional(),
  code: z.string({ error: 'must be a folder' }).min(1, 'must not be empty').optional(),
};

/** A container analysis's run settings, checked. */
export interface ContainerSpec {
  image: string;
  runtime?: ContainerRuntime;
  cpus?: number;
  memory_bytes?: number;
  gpus?: number | 'all';
  /** The network is off unless the manifest asks for it. */
  network: boolean;
  /** A host folder mounted read-only at /code, the working directory, as Code Ocean mounts a capsule's code. */
  code?: string;
}
