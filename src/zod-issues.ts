import type { z } from 'zod';
import { listProblems } from './problem-list';

/** `analysis_parameters.window[2]`: a zod issue path the way a user would write it. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((text, key) => {
    if (typeof key === 'number') return `${text}[${key}]`;
    return text ? `${text}.${String(key)}` : String(key);
  }, '');
}

/** One issue as `field: message`, or just the message when it concerns the whole value. */
export function formatIssue(issue: z.core.$ZodIssue, path: ReadonlyArray<PropertyKey> = issue.path): string {
  const where = formatPath(path);
  const message =
    issue.code === 'unrecognized_keys'
      ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${listProblems(
          issue.keys.map((key) => `"${key}"`),
          ', ',
          'field',
        )}`
      : issue.message;
  return where ? `${where}: ${message}` : message;
}

/** The issues of a failed parse, on one line: the first ones, and how many more there are. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return listProblems(issues.map((issue) => formatIssue(issue)));
}
