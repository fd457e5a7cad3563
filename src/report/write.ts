import { randomBytes } from 'node:crypto';
import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

/** A file written whole or not at all: into a temporary file beside it, renamed over it at the end. */
export interface PendingFile {
  path: string;
  commit(content: string): Promise<number>;
  abandon(): Promise<void>;
}

/**
 * Opens the temporary file now, so that a path that cannot be written fails before any work is
 * done; `commit` writes, flushes and renames it into place.
 */
export async function openPending(path: string): Promise<PendingFile> {
  const target = resolve(path);
  const existing = await stat(target).catch(() => undefined);
  if (existing?.isDirectory()) throw new Error(`${path} is a folder`);
  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(4).toString('hex')}.tmp`);
  const handle: FileHandle = await open(temp, 'wx', 0o644);
  let open_ = true;
  const close = async () => {
    if (open_) await handle.close().catch(() => undefined);
    open_ = false;
  };
  return {
    path: target,
    async commit(content) {
      try {
        await handle.writeFile(content, 'utf8');
        await handle.sync();
        await close();
        await rename(temp, target);
      } catch (err) {
        await close();
        await unlink(temp).catch(() => undefined);
        throw err;
      }
      return Buffer.byteLength(content);
    },
    async abandon() {
      await close();
      await unlink(temp).catch(() => undefined);
    },
  };
}
