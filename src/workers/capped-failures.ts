import type { ActivityInterceptors } from '@temporalio/worker';
import { capMessage } from '../problem-list';

/** Causes followed down from a failure; deeper ones are left as they are. */
const CAUSES_CAPPED = 5;

/**
 * An activity's failure is written into the workflow's history, message and stack alike: cap both,
 * so that an analysis that raises a megabyte of text (or a check that lists every problem) does
 * not carry it through Temporal.
 */
export const capFailureMessages = (): ActivityInterceptors => ({
  inbound: {
    async execute(input, next) {
      try {
        return await next(input);
      } catch (err) {
        let current: unknown = err;
        for (let depth = 0; current instanceof Error && depth < CAUSES_CAPPED; depth++) {
          current.message = capMessage(current.message);
          if (current.stack) current.stack = capMessage(current.stack);
          current = current.cause;
        }
        throw err;
      }
    },
  },
});
