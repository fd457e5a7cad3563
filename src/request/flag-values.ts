import { InputError } from '../errors';

/**
 * The dispatch flags as the CLI hands them over (see client/dispatch-flags.ts): strings, or values
 * as a programmatic caller gives them.
 */
export type DispatchFlags = Partial<Record<string, unknown>>;

/** Jobs running at once when the flag is not given, as in the current upstream dispatcher. */
export const DEFAULT_PARALLEL_WORKERS = 50;

/** A flag's value as trimmed text; absent when not given (or given as an empty string). */
export function text(options: DispatchFlags, name: string): string | undefined {
  const value = options[name];
  if (value === undefined || value === null || value === false) return undefined;
  const trimmed = String(value).trim();
  return trimmed === '' ? undefined : trimmed;
}

/**
 * A flag that also goes by the current upstream dispatcher's name: either spelling, and both only
 * when they say the same thing.
 */
export function aliased(
  options: DispatchFlags,
  name: string,
  alias: string,
  read: (options: DispatchFlags, name: string) => string | undefined = text,
): string | undefined {
  const value = read(options, name);
  const other = read(options, alias);
  if (value !== undefined && other !== undefined && value !== other) {
    throw new InputError(`--${name} and --${alias} are one flag under two names: give it once`);
  }
  return value ?? other;
}

export function binaryValue(value: string | undefined, flag: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (value === '0') return false;
  if (value === '1') return true;
  throw new InputError(`${flag} must be 0 or 1, got "${value}"`);
}

/** A 0|1 flag's value as text; given alone on the command line it arrives as `true`, meaning 1. */
export function binaryText(options: DispatchFlags, name: string): string | undefined {
  const value = options[name];
  if (typeof value === 'boolean') return value ? '1' : '0';
  return text(options, name);
}

export function binary(options: DispatchFlags, name: string, fallback: boolean): boolean {
  return binaryValue(binaryText(options, name), `--${name}`, fallback);
}

export function positiveInteger(value: string, flag: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(parsed) || parsed < 1) {
    throw new InputError(`${flag} must be a positive whole number, got "${value}"`);
  }
  return parsed;
}

export function atMost(value: number, max: number, flag: string, why: string): number {
  if (value > max) throw new InputError(`${flag} must be at most ${max}, got ${value}: ${why}`);
  return value;
}

/** A dotted document path; `$` would turn it into an operator and empty segments match nothing. */
export function fieldPath(value: string, flag: string): string {
  if (value.startsWith('$') || value.split('.').some((segment) => segment.trim() === '')) {
    throw new InputError(`${flag}: "${value}" is not a field path (expected e.g. subject.subject_id)`);
  }
  return value;
}

/** `a.b, c` as distinct field paths, in the order given. */
export function fieldList(options: DispatchFlags, name: string): string[] {
  return [
    ...new Set(
      (text(options, name) ?? '')
        .split(',')
        .map((field) => field.trim())
        .filter(Boolean)
        .map((field) => fieldPath(field, `--${name}`)),
    ),
  ];
}
