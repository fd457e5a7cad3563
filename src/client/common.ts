import type { Client } from '@temporalio/client';
import type { MongoClient } from 'mongodb';
import { ConfigError, loadConfig, redactUri, type Config } from '../config';
import { InputError } from '../errors';
import { connectMongo } from '../storage/database';
import { connectClient } from '../temporal';

/**
 * Exit codes: 0 success, 1 the work failed, 2 bad input or configuration, 3 cancelled, 4 completed
 * with failures within the tolerated threshold.
 */
export const EXIT = { ok: 0, failed: 1, input: 2, cancelled: 3, partial: 4 } as const;

export class ExitError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

export interface Session {
  config: Config;
  temporal(): Promise<Client>;
  mongo(): Promise<MongoClient>;
}

/**
 * Runs a command body with lazily opened connections, closes them afterwards, and turns errors
 * into a one-line message and an exit code (a stack trace only for the unexpected).
 */
export async function runCommand(body: (session: Session) => Promise<number | void>): Promise<void> {
  let temporal: Client | undefined;
  let mongo: MongoClient | undefined;
  let code: number = EXIT.ok;
  try {
    const config = loadConfig();
    const session: Session = {
      config,
      temporal: async () => (temporal ??= await connectTemporal()),
      mongo: async () => (mongo ??= await connectDatabase(config)),
    };
    code = (await body(session)) ?? EXIT.ok;
  } catch (err) {
    code = reportError(err);
  } finally {
    await mongo?.close().catch(() => undefined);
    await temporal?.connection.close().catch(() => undefined);
  }
  process.exitCode = code;
}

export function reportError(err: unknown): number {
  if (err instanceof ExitError) {
    if (err.message) console.error(`error: ${err.message}`);
    return err.code;
  }
  if (err instanceof InputError || err instanceof ConfigError) {
    console.error(`error: ${err.message}`);
    return EXIT.input;
  }
  console.error(err instanceof Error ? (process.env.DEBUG ? err.stack : `error: ${err.message}`) : err);
  return EXIT.failed;
}

async function connectTemporal(): Promise<Client> {
  try {
    return await connectClient();
  } catch (err) {
    throw new ExitError(
      `cannot reach the Temporal server at ${process.env.TEMPORAL_ADDRESS ?? 'localhost:7233'}: ${(err as Error).message}`,
      EXIT.failed,
    );
  }
}

async function connectDatabase(config: Config): Promise<MongoClient> {
  try {
    return await connectMongo(config);
  } catch (err) {
    throw new ExitError(
      `cannot reach the database at ${redactUri(config.MONGODB_URI)}: ${(err as Error).message}`,
      EXIT.failed,
    );
  }
}

export function parsePositiveInt(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
      throw new InputError(`${flag} must be a whole number of at least 1, got "${value}"`);
    }
    return n;
  };
}
