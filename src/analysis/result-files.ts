import type { Dirent } from 'node:fs';
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorType, nonRetryable } from '../errors';
import { isInside } from '../path-containment';

/**
 * Every file under the results folder as sorted posix paths relative to it. A symlink is kept
 * only while it points inside the folder: uploading through one that leaves it could publish any
 * file the worker can read. Symlinked folders are not descended (their real files are already
 * listed, and a link to an ancestor would loop).
 */
export async function listResultFiles(resultsDir: string): Promise<string[]> {
  // The analysis may have replaced its results folder with a link to anywhere.
  if (!(await lstat(resultsDir)).isDirectory())
    throw nonRetryable(ErrorType.UnsafeResults, 'The results folder is no longer a folder (a symlink?)');
  const root = await realpath(resultsDir);
  const files: string[] = [];
  const walk = async (dir: string, prefix: string): Promise<void> => {
    const entries: Dirent[] = await readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      const path = join(dir, entry.name);
      const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        await walk(path, relative);
      } else if (entry.isFile()) {
        files.push(relative);
      } else if (entry.isSymbolicLink()) {
        const target = await realpath(path).catch(() => undefined);
        if (!target)
          throw nonRetryable(ErrorType.UnsafeResults, `Result ${relative} is a symlink to nothing`);
        if (!isInside(root, target)) {
          throw nonRetryable(
            ErrorType.UnsafeResults,
            `Result ${relative} is a symlink leaving the results folder`,
          );
        }
        if ((await stat(target)).isFile()) files.push(relative);
      }
    }
  };
  await walk(root, '');
  return files.sort();
}
