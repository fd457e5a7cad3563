import { InputError } from '../errors';

/**
 * The most a workflow input may weigh here: Temporal's server warns of a payload past 512 KiB
 * and refuses one past 2 MiB, and then the client says only "Failed to start Workflow".
 */
export const INPUT_BYTES_MAX = 512 * 1024;

/** Refuses, naming it and the limit, an input too large to start a workflow with; else its size. */
export function checkInputSize(what: string, input: unknown): number {
  const bytes = Buffer.byteLength(JSON.stringify(input));
  if (bytes > INPUT_BYTES_MAX) {
    throw new InputError(
      `${what} would be ${(bytes / 1024).toFixed(0)} KiB, more than the ${INPUT_BYTES_MAX / 1024} KiB a workflow input may hold; the largest part of it is what to shorten`,
    );
  }
  return bytes;
}
