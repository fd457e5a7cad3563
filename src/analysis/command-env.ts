import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { isInside } from '../path-containment';

/** What every program needs to start; everything else (keys, tokens, URIs) stays in the worker. */
const BASE_VARIABLES = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR'];

/** The environment of a command analysis: the base variables plus those the operator listed. */
export function commandEnv(
  passEnv: string[],
  extra: Record<string, string> = {},
  parent: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of [...BASE_VARIABLES, ...passEnv]) {
    const value = parent[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...extra };
}

/**
 * A command argument as the program will see it: the program runs in a fresh working directory,
 * so a relative path that names something under the command root is made absolute.
 */
export function resolveCommandArg(arg: string, commandRoot: string): string {
  if (arg === '' || isAbsolute(arg) || arg.startsWith('-')) return arg;
  const candidate = resolve(commandRoot, arg);
  return isInside(commandRoot, candidate) && existsSync(candidate) ? candidate : arg;
}
