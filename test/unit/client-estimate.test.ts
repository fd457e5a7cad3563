import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { estimate, estimateLines, hoursText, type History } from '../../src/client/estimate';
import { Numbers } from '../../src/report/stats';

function past(durations: number[], cpu?: number[]) {
  const numbers = new Numbers();
  for (const value of durations) numbers.push(value);
  return {
    durations: numbers,
    cpu: (cpu ?? durations).reduce((a, b) => a + b, 0),
    cpuMeasured: cpu?.length ?? 0,
  };
}

describe('estimate', () => {
  const history: History = new Map([
    [
      'A',
      new Map([
        ['1', past([10, 20, 30, 40, 100], [5, 10, 15, 20, 50])],
        ['2', past([1000])],
      ]),
    ],
    ['B', new Map([['1', past([60, 60])]])],
  ]);

  test('estimate: same version first, then the analysis, else no history; totals at the parallel jobs', () => {
    const result = estimate(
      [
        { analysis_name: 'A', analysis_version: '1', count: 10 },
        { analysis_name: 'B', analysis_version: '7', count: 2 },
        { analysis_name: 'C', analysis_version: '1', count: 3 },
      ],
      history,
      4,
    );
    const [a, b, c] = result.analyses;
    assert.equal(a?.basis, 'same version');
    assert.equal(a?.median_task_s, 30);
    assert.equal(a?.p90_task_s, 100);
    assert.equal(a?.cpu_hours, (10 * 20) / 3600);
    assert.equal(a?.task_hours, (10 * 40) / 3600);
    assert.equal(b?.basis, 'other versions');
    assert.equal(b?.history_records, 2);
    assert.deepEqual(c, {
      analysis_name: 'C',
      analysis_version: '1',
      tasks: 3,
      basis: 'no history',
      history_records: 0,
    });
    assert.equal(result.tasks_without_history, 3);
    assert.equal(result.wall_hours, (10 * 40 + 2 * 60) / 3600 / 4);
    assert.equal(result.cpu_hours, (10 * 20 + 2 * 60) / 3600);
    assert.match(
      estimateLines(result).join('\n'),
      /without the 3 tasks of no history\)\n {2}A 1: 10 tasks, median 30 s, p90 100 s per task \(5 records of this version\)/,
    );
  });

  test('hoursText', () => {
    assert.equal(hoursText(0), '0');
    assert.equal(hoursText(1240.4), '1240');
    assert.equal(hoursText(12.44), '12.4');
    assert.equal(hoursText(0.125), '0.125');
    assert.equal(hoursText(0.00042), '0.00042');
  });
});
