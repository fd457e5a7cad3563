import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';

const HISTORIES = join(__dirname, '..', 'histories');
const workflowsPath = require.resolve('../../src/workflows');

describe('replay of saved histories', () => {
  const ids = JSON.parse(readFileSync(join(HISTORIES, 'workflow-ids.json'), 'utf8')) as Record<
    string,
    string
  >;
  const files = readdirSync(HISTORIES).filter((file) => file.endsWith('.json') && file in ids);

  test('there are saved histories of a dispatch and of a job', () => {
    assert.ok(files.some((file) => file.includes('dispatch-')));
    assert.ok(files.some((file) => file.includes('job-')));
  });

  for (const file of files) {
    test(`${file} replays on the current workflow code`, async () => {
      const history = JSON.parse(readFileSync(join(HISTORIES, file), 'utf8'));
      try {
        await Worker.runReplayHistory({ workflowsPath, replayName: file }, history, ids[file]);
      } catch (err) {
        if (err instanceof DeterminismViolationError) {
          assert.fail(
            `${file}: the workflow code no longer replays this history (${err.message}); keep old paths behind patched() or record new histories on purpose`,
          );
        }
        throw err;
      }
    });
  }
});
