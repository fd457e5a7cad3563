import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where the build (scripts/build.sh) leaves the bundle, beside the compiled code. */
const PREBUILT = join(__dirname, '..', 'workflow-bundle.js');

/**
 * The workflow code for a worker: the bundle the build made, when this is the compiled code and
 * the bundle is there (nothing is bundled at start-up); otherwise bundled now, from the sources.
 */
export async function workflowBundle(): Promise<{ code: string } | { codePath: string }> {
  if (__filename.endsWith('.js') && existsSync(PREBUILT)) return { codePath: PREBUILT };
  return buildWorkflowBundle();
}

/**
 * Bundles the workflow code in a short-lived child process and returns the bundle's text.
 *
 * Bundling loads webpack and its caches, which a worker would otherwise carry for its whole life
 * (about 110 MiB of its resident memory); a child process gives all of it back when it exits.
 */
export async function buildWorkflowBundle(): Promise<{ code: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'analysis-workflows-'));
  const out = join(dir, 'workflows.js');
  try {
    await new Promise<void>((resolve, reject) => {
      execFile(
        process.execPath,
        // The compiled bundler runs as it is; the TypeScript one through tsx.
        __filename.endsWith('.ts')
          ? ['--require', require.resolve('tsx/cjs'), __filename, out]
          : [__filename, out],
        { maxBuffer: 16 * 1024 * 1024 },
        (err, _stdout, stderr) =>
          err
            ? reject(new Error(`bundling the workflow code failed: ${stderr.trim() || err.message}`))
            : resolve(),
      );
    });
    return { code: await readFile(out, 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The child process: bundles src/workflows and writes the code to the file named by argv[2]. */
async function bundleToFile(out: string): Promise<void> {
  // Loaded here only, so the worker process never loads the bundler.
  const { bundleWorkflowCode } = await import('@temporalio/worker');
  const ignore = () => undefined;
  const logger = {
    log: ignore,
    trace: ignore,
    debug: ignore,
    info: ignore,
    warn: (message: string) => console.error(message),
    error: (message: string) => console.error(message),
  };
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger });
  await writeFile(out, code);
}

if (require.main === module) {
  const out = process.argv[2];
  if (!out) {
    console.error('usage: bundle <output file>');
    process.exit(2);
  }
  bundleToFile(out).catch((err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  });
}
