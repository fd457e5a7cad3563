import { levels, type PlanLog } from './log';

const SHOWN = 20;

/**
 * Passes every warning to the log, and keeps the first few for the plan summary, which may live
 * in workflow history and so must stay small; the rest are only counted.
 */
export function collectWarnings(log: PlanLog) {
  const { warn } = levels(log);
  const kept: string[] = [];
  let total = 0;
  return {
    warn: (message: string): void => {
      warn(message);
      total += 1;
      if (kept.length < SHOWN) kept.push(message);
    },
    list: (): string[] =>
      total > kept.length ? [...kept, `... and ${total - kept.length} more`] : [...kept],
  };
}
