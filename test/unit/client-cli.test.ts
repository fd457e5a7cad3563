import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bodies, buildProgram, normaliseFlags } from '../../src/client/cli';

describe('client/cli', () => {
  test('normaliseFlags accepts kebab-case, and leaves values and what follows -- alone', () => {
    assert.deepEqual(
      normaliseFlags([
        'node',
        'analysis',
        'dispatch',
        '--analysis-spec=a-b.json',
        '--dry-run',
        '1',
        '--',
        '--x-y',
      ]),
      ['node', 'analysis', 'dispatch', '--analysis_spec=a-b.json', '--dry_run', '1', '--', '--x-y'],
    );
  });

  test('buildProgram declares every command, each with a description', () => {
    const program = buildProgram();
    const names = program.commands.map((command) => command.name());
    assert.deepEqual(names, [
      'dispatch',
      'plan',
      'status',
      'cancel',
      'resize',
      'pause',
      'resume',
      'retry',
      'results',
      'report',
      'schedule',
      'worker',
    ]);
    const schedule = program.commands.find((command) => command.name() === 'schedule')!;
    assert.deepEqual(
      schedule.commands.map((command) => command.name()),
      ['create', 'list', 'describe', 'pause', 'unpause', 'trigger', 'delete'],
    );
    for (const command of [...program.commands, ...schedule.commands])
      assert.ok(command.description().length > 10, command.name());
  });

  // A loader names its module twice, as a type and as a path: only loading it checks the path.
  test('every command body loads', () => {
    for (const [name, load] of Object.entries(bodies)) {
      const exported = Object.values(load() as Record<string, unknown>);
      assert.ok(
        exported.some((value) => typeof value === 'function'),
        `${name} exports no function`,
      );
    }
  });
});
