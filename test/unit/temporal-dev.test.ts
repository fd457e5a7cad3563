import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';

const SCRIPT = join(__dirname, '..', '..', 'temporal-dev.sh');

/** ./temporal-dev.sh with some settings; these refusals come before it looks at any server. */
function run(env: Record<string, string>, ...args: string[]) {
  const result = spawnSync(SCRIPT, args, { env: { ...process.env, ...env }, encoding: 'utf8' });
  return { code: result.status, stderr: result.stderr, stdout: result.stdout };
}

describe('temporal-dev.sh settings', () => {
  test('an unknown DEV_TEMPORAL is refused with the values it takes, exit 2', () => {
    for (const command of ['up', 'status', 'env']) {
      const result = run({ DEV_TEMPORAL: 'cloud' }, command);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /DEV_TEMPORAL: unknown value 'cloud' \(use dev .* or server /);
      assert.equal(result.stdout, '');
    }
  });

  test('DEV_TEMPORAL=server refuses a gRPC port whose membership ports PostgreSQL cannot keep', () => {
    const result = run({ DEV_TEMPORAL: 'server', DEV_TEMPORAL_PORT: '40000' }, 'up');
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /DEV_TEMPORAL_PORT=40000: .* between 1324 and 33061/);
  });

  test('the environment names the server and its own Web UI', () => {
    const result = run(
      {
        DEV_TEMPORAL: 'server',
        DEV_TEMPORAL_PORT: '17233',
        DEV_TEMPORAL_UI_PORT: '18233',
        DEV_POSTGRES_PORT: '15433',
        // Without the S3 part, `env` makes no credentials file.
        DEV_SKIP: 's3',
      },
      'env',
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^# Temporal server on PostgreSQL \(127\.0\.0\.1:15433\)$/m);
    assert.match(result.stdout, /^export TEMPORAL_ADDRESS=127\.0\.0\.1:17233$/m);
    assert.match(result.stdout, /^export TEMPORAL_UI_URL=http:\/\/127\.0\.0\.1:18233$/m);
  });
});
