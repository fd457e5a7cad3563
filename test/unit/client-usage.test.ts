import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InputError } from '../../src/errors';
import { addRecord, groupingOf, sinceOf, type UsageRow } from '../../src/client/usage';

describe('usage', () => {
  const now = Date.UTC(2026, 11, 7);

  test('sinceOf: a period back from now, or a date', () => {
    assert.equal(sinceOf(undefined, now), now - 30 * 86_400_000);
    assert.equal(sinceOf('12h', now), now - 12 * 3_600_000);
    assert.equal(sinceOf('2w', now), now - 14 * 86_400_000);
    assert.equal(sinceOf('2026-11-01', now), Date.UTC(2026, 10, 1));
    assert.throws(() => sinceOf('yesterday', now), InputError);
  });

  test('groupingOf', () => {
    assert.equal(groupingOf(undefined), 'experimenter');
    assert.equal(groupingOf('dispatch'), 'dispatch');
    assert.throws(() => groupingOf('team'), /--by must be one of experimenter, analysis, dispatch/);
  });

  test('addRecord: both record formats; CPU time where measured, else the wall time', () => {
    const rows = new Map<string, UsageRow>();
    const since = Date.UTC(2026, 11, 1);
    assert.ok(
      addRecord(
        rows,
        {
          analysis_name: 'A',
          run_resources: { wall_time_s: 3600, cpu_time_s: 1800, output_bytes: 10 },
          processing: { data_processes: [{ experimenters: ['ada'], end_date_time: '2026-12-02T00:00:00Z' }] },
        },
        'experimenter',
        since,
      ),
    );
    addRecord(
      rows,
      { analysis_name: 'A', started_at: '2026-12-03T00:00:00Z', finished_at: '2026-12-03T00:30:00Z' },
      'experimenter',
      since,
    );
    assert.equal(
      addRecord(
        rows,
        { finished_at: '2026-11-30T00:00:00Z', run_resources: { wall_time_s: 5 } },
        'experimenter',
        since,
      ),
      false,
    );
    assert.deepEqual(
      [...rows.values()],
      [
        { key: 'ada', tasks: 1, cpu_hours: 0.5, wall_hours: 1, bytes_written: 10, cpu_measured: 1 },
        {
          key: '(not recorded)',
          tasks: 1,
          cpu_hours: 0.5,
          wall_hours: 0.5,
          bytes_written: 0,
          cpu_measured: 0,
        },
      ],
    );
  });
});
