import type { ScheduleSpec, ScheduleSpecDescription } from '@temporalio/client';
import { InputError } from '../../errors';

/** The schedule's id becomes part of workflow, dispatch and plan ids: keep it plain. */
export function checkScheduleId(id: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(id)) {
    throw new InputError(
      `schedule id "${id}": use letters, digits, ".", "_" or "-" (at most 100, not starting with a symbol)`,
    );
  }
  return id;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** `90s`, `15m`, `1h30m`, `2d` to seconds. */
export function parseEvery(text: string, flag = '--every'): number {
  const compact = text.replace(/\s+/g, '').toLowerCase();
  if (!/^(\d+[smhd])+$/.test(compact)) {
    throw new InputError(`${flag} "${text}": expected a duration such as 30m, 1h, 1h30m or 1d`);
  }
  let seconds = 0;
  for (const [, amount, unit] of compact.matchAll(/(\d+)([smhd])/g))
    seconds += Number(amount) * UNIT_SECONDS[unit!]!;
  if (seconds < 1) throw new InputError(`${flag} "${text}" must be at least 1s`);
  return seconds;
}

export function formatSeconds(total: number): string {
  const parts: string[] = [];
  let rest = Math.round(total);
  for (const [unit, size] of Object.entries(UNIT_SECONDS).reverse()) {
    if (rest >= size) parts.push(`${Math.floor(rest / size)}${unit}`);
    rest %= size;
  }
  return parts.join('') || '0s';
}

const CRON_SHORTHANDS = /^@(yearly|annually|monthly|weekly|daily|hourly|every\s+\S+)$/;

/**
 * A shape check only, so that an obvious slip gets a message naming the flag; the server parses
 * the expression itself and its refusal is reported too.
 */
function checkCron(text: string): string {
  const body = text
    .replace(/^(CRON_TZ|TZ)=\S+\s+/, '')
    .replace(/#.*$/, '')
    .trim();
  const fields = body.split(/\s+/).length;
  if (!CRON_SHORTHANDS.test(body) && (fields < 5 || fields > 7)) {
    throw new InputError(
      `--cron "${text}": expected 5 fields (minute hour day-of-month month day-of-week), e.g. "0 3 * * *"`,
    );
  }
  return text.trim();
}

export interface Timing {
  spec: ScheduleSpec;
  /** As the user wrote it: the server keeps a cron only in compiled form. */
  text: string;
}

/**
 * `--every` or `--interval` (the Temporal CLI's name): a duration, optionally with a phase offset
 * after a slash as the Temporal CLI writes it (`1h/15m`: every hour at a quarter past).
 */
function intervalTiming(value: string, flag: string): Timing {
  const [every = '', offset, ...rest] = value.split('/');
  if (rest.length)
    throw new InputError(`${flag} "${value}": expected INTERVAL or INTERVAL/OFFSET, e.g. 1h/15m`);
  const seconds = parseEvery(every, flag);
  const offsetSeconds = offset === undefined ? 0 : parseEvery(offset, flag);
  if (offsetSeconds >= seconds)
    throw new InputError(`${flag} "${value}": the offset must be shorter than the interval`);
  return {
    spec: {
      intervals: [{ every: seconds * 1000, ...(offsetSeconds ? { offset: offsetSeconds * 1000 } : {}) }],
    },
    text: `every ${formatSeconds(seconds)}${offsetSeconds ? ` (offset ${formatSeconds(offsetSeconds)})` : ''}`,
  };
}

export function scheduleTiming(flags: { cron?: string; every?: string; interval?: string }): Timing {
  if (flags.every !== undefined && flags.interval !== undefined && flags.every !== flags.interval)
    throw new InputError('--every and --interval are one flag under two names: give it once');
  const interval = flags.every ?? flags.interval;
  const intervalFlag = flags.every !== undefined ? '--every' : '--interval';
  if (flags.cron !== undefined && interval !== undefined)
    throw new InputError(`give --cron or ${intervalFlag}, not both`);
  if (flags.cron !== undefined) {
    const cron = checkCron(flags.cron);
    return { spec: { cronExpressions: [cron] }, text: `cron "${cron}"` };
  }
  if (interval !== undefined) return intervalTiming(interval, intervalFlag);
  throw new InputError('say when to run: --cron "0 3 * * *" (UTC) or --every 1h (also --interval 1h)');
}

/** The text saved at create time, or a description rebuilt from the server's compiled spec. */
export function specText(
  spec: ScheduleSpecDescription | undefined,
  memo: Record<string, unknown> | undefined,
): string {
  if (typeof memo?.spec === 'string') return memo.spec;
  const intervals = (spec?.intervals ?? []).map(
    (interval) => `every ${formatSeconds(interval.every / 1000)}`,
  );
  const calendars = (spec?.calendars ?? []).map((calendar) => calendar.comment ?? 'calendar');
  return [...intervals, ...calendars].join(', ') || 'none';
}
