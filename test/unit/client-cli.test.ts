import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bodies, buildProgram, normaliseFlags } from '../../src/client/cli';
import { reportError } from '../../src/client/common';
import { EXIT } from '../../src/dispatch-outcome';

/**
 * The exit code and messages of a command line that commander or a flag's parser refuses before
 * any command body runs (README "Exit codes": bad flags exit 2).
 */
async function refused(...args: string[]): Promise<{ code: number; err: string; out: string }> {
  let err = '';
  let out = '';
  const program = buildProgram({ writeErr: (text) => (err += text), writeOut: (text) => (out += text) });
  const stderr = console.error;
  console.error = (text: string) => (err += `${text}\n`);
  try {
    await program.parseAsync(args, { from: 'user' });
    return assert.fail(`analysis ${args.join(' ')} ran its command`);
  } catch (error) {
    return { code: reportError(error), err, out };
  } finally {
    console.error = stderr;
  }
}

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
      'usage',
      'schedule',
      'worker',
      'setup',
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

  test('a bad command line exits 2, naming what is wrong, before any command runs', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['dispatch', '--analysis_spec', 's.json', '--paralel', '3'], /error: unknown option '--paralel'/],
      [['frobnicate'], /error: unknown command 'frobnicate'/],
      [['schedule', 'frobnicate'], /error: unknown command 'frobnicate'/],
      [['dispatch', '--query', '{}'], /error: required option '--analysis_spec <file>' not specified/],
      [['resize', 'x'], /error: required option '--num_parallel_workers <n>' not specified/],
      [['status'], /error: missing required argument 'dispatch_id'/],
      [['plan', '--analysis_spec', 's.json', 'extra'], /error: too many arguments for 'plan'/],
      [['dispatch', '--analysis_spec'], /error: option '--analysis_spec <file>' argument missing/],
      [
        ['resize', 'x', '--num_parallel_workers', 'abc'],
        /error: --num_parallel_workers must be a whole number of at least 1, got "abc"/,
      ],
      [[], /Usage: analysis/],
    ];
    for (const [args, message] of cases) {
      const { code, err } = await refused(...args);
      assert.equal(code, EXIT.input, `analysis ${args.join(' ')}: ${err}`);
      assert.match(err, message, `analysis ${args.join(' ')}`);
    }
  });

  test('--help exits 0 and prints the help to stdout', async () => {
    for (const args of [['--help'], ['dispatch', '--help'], ['help', 'schedule']]) {
      const { code, out, err } = await refused(...args);
      assert.equal(code, EXIT.ok, args.join(' '));
      assert.match(out, /^Usage: analysis/, args.join(' '));
      assert.equal(err, '');
    }
  });
});
