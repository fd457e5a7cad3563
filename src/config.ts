import { z } from 'zod';
import { ConfigError } from './errors';
import { BUCKET_PATH } from './storage/s3-url';
import { isUrl, UI_URL_PROBLEM } from './ui-url';
import { formatIssues } from './zod-issues';

const nonEmpty = z.string().trim().min(1);

/** `bucket` or `bucket/prefix`, as DESIGN's ANALYSIS_BUCKET and `s3_output_bucket`. */
export const bucketPath = z
  .string()
  .trim()
  .regex(BUCKET_PATH, 'must be "bucket" or "bucket/prefix" (no s3:// scheme)')
  .transform((value) => value.replace(/\/+$/, ''));

const positiveInt = z.coerce.number().int().positive();

/** `a, b,c` to `['a', 'b', 'c']`; unset or empty is an empty list. */
const commaList = z
  .string()
  .default('')
  .transform((value) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  );

const schema = z.object({
  TEMPORAL_TASK_QUEUE: nonEmpty.default('analysis'),
  TEMPORAL_UI_URL: z.string().trim().refine(isUrl, UI_URL_PROBLEM).optional(),
  MONGODB_URI: z
    .string()
    .trim()
    .regex(/^mongodb(\+srv)?:\/\/\S+$/, 'must be a mongodb:// or mongodb+srv:// URI')
    .default('mongodb://127.0.0.1:27017'),
  ASSETS_DATABASE: nonEmpty.default('metadata_index'),
  ASSETS_COLLECTION: nonEmpty.default('data_assets'),
  DOCDB_DATABASE: nonEmpty.default('analysis'),
  DOCDB_COLLECTION: nonEmpty.default('analysis_records'),
  ANALYSIS_BUCKET: bucketPath.optional(),
  AWS_REGION: nonEmpty.default('us-east-1'),
  AWS_ENDPOINT_URL_S3: z.url().optional(),
  /** Folder of analyses (TypeScript modules and command manifests) the worker and the CLI load. */
  ANALYSIS_MODULES_DIR: nonEmpty.default('analyses'),
  /**
   * `1`: this worker runs a `command` given in a dispatch spec. Off by default, so a worker runs only
   * the programs its operator registered in the analyses folder.
   */
  ANALYSIS_ALLOW_SPEC_COMMANDS: z
    .enum(['0', '1', ''], { error: 'must be 1 (allowed) or 0 (refused)' })
    .default('0')
    .transform((value) => value === '1'),
  /** The program that runs container analyses (manifests naming an `image`). */
  ANALYSIS_CONTAINER_RUNTIME: z
    .enum(['podman', 'docker'], { error: 'must be podman or docker' })
    .default('podman'),
  /**
   * `1`: this worker runs analyses only in containers: bare command analyses (and spec commands)
   * are refused, and named when it starts.
   */
  ANALYSIS_REQUIRE_CONTAINERS: z
    .enum(['0', '1', ''], { error: 'must be 1 (required) or 0' })
    .default('0')
    .transform((value) => value === '1'),
  /** Where relative paths in a specification's `command` are resolved. */
  ANALYSIS_COMMAND_ROOT: nonEmpty.optional(),
  /** Environment variable names passed on to command analyses (none by default). */
  ANALYSIS_PASS_ENV: commaList,
  ANALYSIS_WORK_DIR: nonEmpty.optional(),
  /**
   * Who ran the analyses, for the records' `experimenters` (comma-separated); read where a dispatch
   * is started. Unset: the login name of the user starting it.
   */
  ANALYSIS_EXPERIMENTERS: commaList,
  /**
   * Worker pools this worker serves besides the default (comma-separated, e.g. `gpu,highmem`);
   * `worker --pools` overrides it.
   */
  ANALYSIS_WORKER_POOLS: commaList,
  WORKER_MAX_CONCURRENT_ACTIVITIES: positiveInt.default(20),
  /** Uploads run on each worker's own queue, with their own slots. */
  WORKER_MAX_CONCURRENT_UPLOADS: positiveInt.default(8),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: positiveInt.default(40),
  /** Default per-attempt time limit of an analysis run, when its specification gives none. */
  ANALYSIS_TIMEOUT: nonEmpty
    .regex(
      /^\d+(\.\d+)?\s*(ms|s|m|h|d|seconds?|minutes?|hours?|days?)$/,
      'must be a duration like "2 hours" or "30m"',
    )
    .default('2 hours'),
  /** Default attempts of an analysis run, when its specification gives none. */
  ANALYSIS_MAX_ATTEMPTS: positiveInt.default(3),
  /** Jobs a dispatch run starts before continuing as new (default 400); tests lower it. */
  ANALYSIS_CONTINUE_AS_NEW_AFTER: positiveInt.optional(),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
});

export type Config = z.infer<typeof schema>;

export { ConfigError };

/** Parses configuration once; a bad value names its variable (never its value, which may be a secret). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    throw new ConfigError(`Invalid environment: ${formatIssues(result.error.issues)}`);
  }
  return result.data;
}
