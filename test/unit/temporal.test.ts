import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { loadConfig } from '../../src/config';
import { webUiUrl } from '../../src/temporal';

describe('temporal', () => {
  const namespace = process.env.TEMPORAL_NAMESPACE;
  after(() => {
    if (namespace === undefined) delete process.env.TEMPORAL_NAMESPACE;
    else process.env.TEMPORAL_NAMESPACE = namespace;
  });

  test('webUiUrl links a workflow or a schedule under its namespace, ids encoded', () => {
    process.env.TEMPORAL_NAMESPACE = 'team a';
    const config = loadConfig({ TEMPORAL_UI_URL: 'https://temporal.example.org/ui/' });
    assert.equal(
      webUiUrl(config, 'workflows', 'dispatch-20261122-101530-3fa9'),
      'https://temporal.example.org/ui/namespaces/team%20a/workflows/dispatch-20261122-101530-3fa9',
    );
    assert.equal(
      webUiUrl(config, 'schedules', 'nightly/x'),
      'https://temporal.example.org/ui/namespaces/team%20a/schedules/nightly%2Fx',
    );
  });

  test('webUiUrl defaults to the local dev server', () => {
    process.env.TEMPORAL_NAMESPACE = 'default';
    assert.equal(
      webUiUrl(loadConfig({}), 'workflows', 'w'),
      'http://localhost:8233/namespaces/default/workflows/w',
    );
  });
});
