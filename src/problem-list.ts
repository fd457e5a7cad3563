/**
 * Bounds for messages that travel through Temporal: an activity's failure, a task's error in a
 * job's report and in the dispatch's state. Each is stored in the workflow's history, so a schema
 * check that finds 10,000 problems must not write them all. Pure: workflow code uses it too.
 */

/** Problems named in one message; the rest are counted. */
export const PROBLEMS_LISTED = 10;
/** Characters kept of one message. */
export const MESSAGE_CHARS = 4_000;

/** The first characters of `message`, saying how many were left out. */
export function capMessage(message: string, max = MESSAGE_CHARS): string {
  if (message.length <= max) return message;
  // Never end on half of a surrogate pair.
  const end = /[\uD800-\uDBFF]/.test(message.charAt(max - 1)) ? max - 1 : max;
  return `${message.slice(0, end)}… (${message.length - end} more characters)`;
}

/** The first problems, joined, then "and N more problems"; capped as any message is. */
export function listProblems(problems: readonly string[], separator = '; ', noun = 'problem'): string {
  const more = problems.length - PROBLEMS_LISTED;
  const listed = problems.slice(0, PROBLEMS_LISTED);
  if (more > 0) listed.push(`and ${more} more ${noun}${more === 1 ? '' : 's'}`);
  return capMessage(listed.join(separator));
}
