import { MongoClient, type Collection, type Db } from 'mongodb';
import type { Config } from '../config';
import type { StoredRecord } from '../types';
import type { Lease } from './leases';
import type { TaskLock } from './task-locks';

/** Connects with a short server-selection timeout so an unreachable database is an error in seconds. */
export async function connectMongo(config: Config): Promise<MongoClient> {
  const client = new MongoClient(config.MONGODB_URI, {
    serverSelectionTimeoutMS: 5_000,
    appName: 'analysis-dispatch',
  });
  await client.connect();
  return client;
}

export interface Stores {
  mongo: MongoClient;
  assets: Collection;
  records: Collection<StoredRecord>;
  locks: Collection<TaskLock>;
  /** Run slots of the analyses with `max_concurrent`. */
  leases: Collection<Lease>;
  analysisDb: Db;
}

/** The collections the system reads and writes, named by configuration. */
export function stores(mongo: MongoClient, config: Config): Stores {
  const analysisDb = mongo.db(config.DOCDB_DATABASE);
  return {
    mongo,
    analysisDb,
    assets: mongo.db(config.ASSETS_DATABASE).collection(config.ASSETS_COLLECTION),
    records: analysisDb.collection<StoredRecord>(config.DOCDB_COLLECTION),
    locks: analysisDb.collection<TaskLock>(`${config.DOCDB_COLLECTION}_locks`),
    leases: analysisDb.collection<Lease>(`${config.DOCDB_COLLECTION}_leases`),
  };
}
