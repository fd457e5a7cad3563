import type { Dirent } from 'node:fs';
import { lstat, readdir, readFile, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorType, nonRetryable } from '../errors';
import { isInside } from '../path-containment';
import { checkedFileList, resultFilesOf, type AnyRunResult, type ResultFiles } from '../task-record';

/** Where a run's folder keeps the listing of its results, beside `results/`, never uploaded. */
const RESULT_LIST = 'result-files.json';

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

/**
 * Keeps the checked listing of a run's results in its folder, where the upload reads it back,
 * and returns what stands for it in the run's result. A command analysis runs in that folder and
 * may have left a file or a link at that name: it is removed, and the listing is created anew
 * without following a link (`wx`: a name that reappears in between fails the write).
 */
export async function keepResultList(workDir: string, files: string[]): Promise<ResultFiles> {
  const path = join(workDir, RESULT_LIST);
  await rm(path, { recursive: true, force: true });
  await writeFile(path, JSON.stringify(files), { flag: 'wx', mode: 0o600 });
  return resultFilesOf(files);
}

/**
 * The result files of a run, for its upload: the listing its folder keeps, which must be the one
 * its result counts (count and sha256), or, from a run result of an earlier version, the list it
 * carries. Either must be a list a listing could give (checkedFileList); the upload still opens
 * each file as untrusted. A listing that is missing or differs means the run's folder was
 * changed since: the results are lost, and the task runs again.
 */
export async function readResultList(run: AnyRunResult): Promise<string[]> {
  if (!('result_files' in run)) {
    const files = checkedFileList(run.files);
    if (!files)
      throw nonRetryable(
        ErrorType.UnsafeResults,
        'The list of result files handed to this step is not a listing',
      );
    return files;
  }
  const lost = (why: string) =>
    nonRetryable(
      ErrorType.ResultsLost,
      `the list of this run's results in ${run.workDir} ${why}; the task runs again`,
    );
  let text: string;
  try {
    text = await readFile(join(run.workDir, RESULT_LIST), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw lost('is gone');
    throw err;
  }
  let files: string[] | undefined;
  try {
    files = checkedFileList(JSON.parse(text));
  } catch {
    files = undefined;
  }
  const expected = run.result_files;
  const found = files && resultFilesOf(files);
  if (!files || found?.count !== expected.count || found.sha256 !== expected.sha256)
    throw lost('changed after the run');
  return files;
}
