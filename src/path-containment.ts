import { isAbsolute, relative, resolve, sep } from 'node:path';

/** True when `child` is `parent` or lies below it. */
export function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * Where `relativePath` lands under `root`, or undefined when it would leave `root` or name `root`
 * itself (`..` segments, an absolute path, a NUL byte): for names that come from outside, such as
 * a bucket's keys, which are not to be trusted as file names.
 */
export function resolveInside(root: string, relativePath: string): string | undefined {
  if (relativePath === '' || relativePath.includes('\0')) return undefined;
  const base = resolve(root);
  const target = resolve(base, relativePath);
  return target !== base && isInside(base, target) ? target : undefined;
}
