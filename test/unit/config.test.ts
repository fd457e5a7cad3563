import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config';

describe('config', () => {
  test('loadConfig gives DESIGN defaults for an empty environment', () => {
    const config = loadConfig({});
    assert.equal(config.TEMPORAL_TASK_QUEUE, 'analysis');
    assert.equal(config.MONGODB_URI, 'mongodb://127.0.0.1:27017');
    assert.equal(config.ASSETS_DATABASE, 'metadata_index');
    assert.equal(config.ASSETS_COLLECTION, 'data_assets');
    assert.equal(config.DOCDB_DATABASE, 'analysis');
    assert.equal(config.DOCDB_COLLECTION, 'analysis_records');
    assert.equal(config.ANALYSIS_BUCKET, undefined);
    assert.deepEqual(config.ANALYSIS_PASS_ENV, []);
    assert.equal(config.ANALYSIS_MAX_ATTEMPTS, 3);
  });

  test('loadConfig reads and normalises values', () => {
    const config = loadConfig({
      ANALYSIS_BUCKET: 'results/unit-yield/',
      ANALYSIS_PASS_ENV: 'HOME, CUDA_VISIBLE_DEVICES,',
      WORKER_MAX_CONCURRENT_ACTIVITIES: '8',
    });
    assert.equal(config.ANALYSIS_BUCKET, 'results/unit-yield');
    assert.deepEqual(config.ANALYSIS_PASS_ENV, ['HOME', 'CUDA_VISIBLE_DEVICES']);
    assert.equal(config.WORKER_MAX_CONCURRENT_ACTIVITIES, 8);
  });

  test('loadConfig names the bad variable and never echoes its value', () => {
    const secret = 'postgres://admin:hunter2@db';
    assert.throws(
      () => loadConfig({ MONGODB_URI: secret }),
      (err: Error) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /MONGODB_URI/);
        assert.doesNotMatch(err.message, /hunter2/);
        return true;
      },
    );
    assert.throws(
      () => loadConfig({ WORKER_MAX_CONCURRENT_ACTIVITIES: '0' }),
      /WORKER_MAX_CONCURRENT_ACTIVITIES/,
    );
    assert.throws(() => loadConfig({ ANALYSIS_BUCKET: 's3://bucket' }), /ANALYSIS_BUCKET/);
    assert.throws(() => loadConfig({ ANALYSIS_TIMEOUT: 'forever' }), /ANALYSIS_TIMEOUT/);
    assert.throws(() => loadConfig({ LOG_LEVEL: 'loud' }), /LOG_LEVEL/);
  });
});
