import { NativeConnection } from '@temporalio/worker';
import { temporalSettings } from '../temporal';

/** The worker's connection, from the same settings as the CLI's client. */
export async function connectWorkerConnection(): Promise<{
  connection: NativeConnection;
  namespace: string;
}> {
  const { connectionOptions, namespace } = temporalSettings();
  return { connection: await NativeConnection.connect(connectionOptions), namespace };
}
