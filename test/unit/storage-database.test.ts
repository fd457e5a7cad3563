import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MongoClient } from 'mongodb';
import { loadConfig } from '../../src/config';
import { stores } from '../../src/storage/database';

describe('storage/database', () => {
  test('stores names the collections by configuration, the locks beside the records', () => {
    // Naming collections opens no connection: no server is needed.
    const mongo = new MongoClient('mongodb://127.0.0.1:1');
    const db = stores(
      mongo,
      loadConfig({
        ASSETS_DATABASE: 'catalogue',
        ASSETS_COLLECTION: 'assets',
        DOCDB_DATABASE: 'lab',
        DOCDB_COLLECTION: 'runs',
      }),
    );
    assert.equal(db.mongo, mongo);
    assert.equal(db.analysisDb.databaseName, 'lab');
    assert.equal(`${db.assets.dbName}.${db.assets.collectionName}`, 'catalogue.assets');
    assert.equal(`${db.records.dbName}.${db.records.collectionName}`, 'lab.runs');
    assert.equal(`${db.locks.dbName}.${db.locks.collectionName}`, 'lab.runs_locks');
  });
});
