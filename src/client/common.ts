import type { Client } from '@temporalio/client';
import { CommanderError } from 'commander';
import type { MongoClient } from 'mongodb';
import type * as ConfigModule from '../config';
import type { Config } from '../config';
import { EXIT } from '../dispatch-outcome';
import { ConfigError, InputError } from '../errors';
import { redactText, redactUri, secretsOf } from '../redact';
import type * as DatabaseModule from '../storage/database';
import type * as TemporalModule from '../temporal';
import { dispatchIdOf } from '../workflow-ids';
import { printable } from './terminal-text';

// Every command's definition loads this module, `--help` included: the configuration schema, the
// database driver and the Temporal client are required only once a command body runs.

export class ExitError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

export interface Session {
  /** Read and checked on first use: a command that needs none of it does not load its schema. */
  readonly config: Config;
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
    let config: Config | undefined;
    const session: Session = {
      get config() {
        const { loadConfig } = require('../config') as typeof ConfigModule;
        return (config ??= loadConfig());
      },
      temporal: async () => (temporal ??= await connectTemporal()),
      mongo: async () => (mongo ??= await connectDatabase(session.config)),
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
  // Commander has printed its message (and the command's help); only `--help` itself is a success.
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.input;
  // Messages quote what they refuse (a name, a file's text, a server's answer) as it was, except
  // for the credentials a driver or server may quote back: those never reach the terminal.
  const shown = (text: string) => printable(redactText(text, secretsOf()));
  if (err instanceof ExitError) {
    if (err.message) console.error(`error: ${shown(err.message)}`);
    return err.code;
  }
  if (err instanceof InputError || err instanceof ConfigError) {
    console.error(`error: ${shown(err.message)}`);
    return EXIT.input;
  }
  // A query or start refused for a search attribute the namespace lacks: a namespace not set up.
  const attribute = err instanceof Error ? unknownSearchAttributeOf(err) : undefined;
  if (attribute) {
    const { missingSearchAttributesError, temporalSettings } =
      require('../temporal') as typeof TemporalModule;
    const namespace = temporalSettings().namespace;
    console.error(`error: ${shown(missingSearchAttributesError(namespace, [attribute]).message)}`);
    return EXIT.failed;
  }
  console.error(
    err instanceof Error
      ? shown((process.env.DEBUG ? err.stack : undefined) ?? `error: ${err.message}`)
      : err,
  );
  return EXIT.failed;
}

function unknownSearchAttributeOf(err: Error): string | undefined {
  const { unknownSearchAttribute } = require('../temporal') as typeof TemporalModule;
  return unknownSearchAttribute(err);
}

async function connectTemporal(): Promise<Client> {
  try {
    const { connectClient } = require('../temporal') as typeof TemporalModule;
    return await connectClient();
  } catch (err) {
    throw temporalUnreachable(err as Error);
  }
}

/** A Temporal server that cannot be reached, named (its address) with why. */
export function temporalUnreachable(err: Error): ExitError {
  return new ExitError(
    `cannot reach the Temporal server at ${process.env.TEMPORAL_ADDRESS ?? 'localhost:7233'}: ${err.message}`,
    EXIT.failed,
  );
}

/** The error of a dispatch id the Temporal server does not know: a mistake in what was typed. */
export function noSuchDispatch(workflowId: string): ExitError {
  return new ExitError(`no dispatch ${dispatchIdOf(workflowId)} on this Temporal server`, EXIT.input);
}

async function connectDatabase(config: Config): Promise<MongoClient> {
  const { connectMongo } = require('../storage/database') as typeof DatabaseModule;
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
