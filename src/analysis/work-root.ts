import { chmod, lstat, mkdir } from 'node:fs/promises';
import { ErrorType, nonRetryable } from '../errors';

/**
 * Creates the worker's work root private (0700) and refuses one that is not the worker's own: a
 * symlink, another user's folder, or one others may write. It usually sits in a shared temporary
 * folder, where anyone may have made it first, to read the results or swap them before upload.
 */
export async function ensureWorkRoot(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 });
  const found = await lstat(path);
  const problem = !found.isDirectory()
    ? 'is not a folder (a symlink?)'
    : process.getuid && found.uid !== process.getuid()
      ? `belongs to uid ${found.uid}, not to this worker's (${process.getuid()})`
      : (found.mode & 0o022) !== 0
        ? `may be written by others (mode ${(found.mode & 0o777).toString(8)})`
        : undefined;
  if (problem)
    throw nonRetryable(
      ErrorType.UnsafeWorkRoot,
      `the work folder ${path} ${problem}: remove it, or set ANALYSIS_WORK_DIR to a folder of the worker's own`,
    );
  // Made by an earlier version, readable by all: the results in it are the worker's alone.
  if ((found.mode & 0o077) !== 0) await chmod(path, 0o700);
}
