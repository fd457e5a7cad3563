import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import { defineAnalysis } from '../../src/analysis/define';
import type { AnalysisDefinition, AnalysisRegistry } from '../../src/analysis/definition';
import type { ProcessMemory, ProcessStat } from '../../src/analysis/process-tree.mjs';
import * as processTree from '../../src/analysis/process-tree.mjs';
import type { Task } from '../../src/types';
import { runInScratch } from '../fixtures/run-analysis';
import { makeTask } from '../fixtures/tasks';

const MIB = 1024 * 1024;
const { TreeMeter, parseStat } = processTree;

/** Holds `mib` of memory a while and spends `cpuMs` of CPU: a TypeScript analysis with a known use. */
const hungry = defineAnalysis({
  name: 'Hungry',
  parameters: z.object({ mib: z.number(), cpuMs: z.number() }),
  outputs: z.object({ held: z.number() }),
  async run({ parameters }) {
    const block = Buffer.alloc(parameters.mib * MIB, 1);
    await sleep(600);
    const end = process.cpuUsage().user / 1000 + parameters.cpuMs;
    while (process.cpuUsage().user / 1000 < end);
    return { held: block.length };
  },
});

const registryOf = (definition: AnalysisDefinition): AnalysisRegistry => ({
  get: (name) => (name === definition.name ? definition : undefined),
  names: () => [definition.name],
});

/** A process as /proc would show it, member of nothing unless its ids say so. */
const stat = (fields: Partial<ProcessStat> & { pid: number; ppid: number }): ProcessStat => ({
  state: 'S',
  pgrp: fields.pid,
  session: fields.pid,
  utime: 0,
  stime: 0,
  cutime: 0,
  cstime: 0,
  starttime: `${fields.pid}-start`,
  ...fields,
});

describe('analysis resources', () => {
  let scratch: string;
  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'resources-'));
  });
  after(() => rm(scratch, { recursive: true, force: true }));

  const run = (task: Task, registry: AnalysisRegistry) => runInScratch(scratch, task, registry);

  test('a command whose work is in two children, one a daemon, is measured over its whole tree', async () => {
    const task = makeTask({
      analysis_name: 'Tree',
      command: ['python3', 'test/fixtures/commands/process-tree.py'],
    });
    const { usage } = await run(task, registryOf(hungry));
    assert.ok(usage, 'measured on Linux');
    // Each child spends about 1 s of CPU holding about 100 MB; the program itself next to nothing.
    assert.ok(usage.cpu_time_s >= 1.5, `both children's CPU time counted: ${usage.cpu_time_s} s`);
    assert.ok(usage.cpu_time_s < 4, `and nobody else's: ${usage.cpu_time_s} s`);
    assert.ok(
      usage.peak_memory_mib !== undefined && usage.peak_memory_mib >= 150,
      `both children's memory counted at once: ${usage.peak_memory_mib} MiB`,
    );
  });

  test('a TypeScript analysis gets the CPU time and memory growth of the worker process while it ran', async () => {
    const task = makeTask(
      { analysis_name: 'Hungry', analysis_parameters: {} },
      { parameters: { mib: 120, cpuMs: 400 } },
    );
    const { usage, outputs } = await run(task, registryOf(hungry));
    assert.deepEqual(outputs, { held: 120 * MIB });
    assert.ok(usage, 'always measured');
    assert.ok(usage.cpu_time_s >= 0.35, `the CPU spent: ${usage.cpu_time_s} s`);
    assert.ok(
      usage.peak_memory_mib !== undefined && usage.peak_memory_mib >= 100,
      `the memory held: ${usage.peak_memory_mib} MiB`,
    );
  });

  test('parseStat reads the fields after a command name holding spaces and parentheses', () => {
    const parsed = parseStat(
      '4321 (my (odd) prog) R 17 4300 4300 0 -1 4194560 100 0 0 0 7 3 1 2 20 0 1 0 555 1000 200',
    );
    assert.deepEqual(parsed, {
      pid: 4321,
      state: 'R',
      ppid: 17,
      pgrp: 4300,
      session: 4300,
      utime: 7,
      stime: 3,
      cutime: 1,
      cstime: 2,
      starttime: '555',
    });
  });

  test('TreeMeter: members by descent, session or mark; summed memory; CPU of those nobody waits for', () => {
    // The worker (100) started the program (101), which leads its own session and group.
    const worker = 100;
    const program = 101;
    const meter = new TreeMeter(program, worker);
    const marked = new Set(['103-start']);
    const isMarked = (process: ProcessStat) => marked.has(`${process.pid}-start`);
    const memory: Record<number, ProcessMemory> = {
      101: { rssKib: 10_000, hwmKib: 12_000 },
      102: { rssKib: 100_000, hwmKib: 130_000 },
      103: { rssKib: 100_000, hwmKib: 100_000 },
      104: { rssKib: 50_000, hwmKib: 50_000 },
      200: { rssKib: 500_000, hwmKib: 500_000 },
    };
    const memoryOf = (process: ProcessStat) => memory[process.pid];

    const first = meter.observe(
      [
        stat({ pid: worker, ppid: 1, utime: 5 }),
        // The program, its child, a marked daemon reparented to init, a zombie, and a stranger.
        stat({ pid: program, ppid: worker, utime: 10 }),
        stat({ pid: 102, ppid: program, pgrp: program, session: program, utime: 20 }),
        stat({ pid: 103, ppid: 1, utime: 30 }),
        stat({ pid: 104, ppid: program, state: 'Z', utime: 4 }),
        stat({ pid: 200, ppid: 1, utime: 999 }),
      ],
      isMarked,
      memoryOf,
    );
    assert.deepEqual([...first].sort(), [101, 102, 103, 104]);

    // 102 has ended (101 waited for it), the daemon worked on, and pid 102 now is someone else's.
    const second = meter.observe(
      [
        stat({ pid: worker, ppid: 1, utime: 6 }),
        stat({ pid: program, ppid: worker, utime: 12, cutime: 25 }),
        stat({ pid: 103, ppid: 1, utime: 60 }),
        stat({ pid: 102, ppid: 1, starttime: 'later', utime: 777 }),
        stat({ pid: 200, ppid: 1, utime: 1000 }),
      ],
      isMarked,
      memoryOf,
    );
    assert.deepEqual([...second].sort(), [101, 103]);
    // 10 + 100 + 100 MB at the first look (the zombie holds nothing), more than any single peak.
    assert.equal(meter.peakMemoryKib(), 210_000);
    // The program still running (12 + 25) and the daemon (60); 102's ticks are in 101's cutime.
    assert.equal(meter.unwaitedTicks(), 97);

    // The program ended and the worker reaped it: the daemon alone is left to the looks, and the
    // program's part is the worker's to read, bounded by what its waited-for members showed.
    meter.observe(
      [stat({ pid: worker, ppid: 1, utime: 7 }), stat({ pid: 103, ppid: 1, utime: 61 })],
      isMarked,
      memoryOf,
    );
    assert.equal(meter.unwaitedTicks(), 61);
    assert.deepEqual(meter.waitedTicks(), { leader: 37, bound: 37 + 20 + 4 });
  });

  test('environValue finds a variable anywhere in an environ text, and only a whole name', () => {
    const environ = 'PATH=/bin\0XANALYSIS_RUN_MARK=no\0ANALYSIS_RUN_MARK=1-ab\0HOME=/h';
    assert.equal(processTree.environValue(environ, 'ANALYSIS_RUN_MARK'), '1-ab');
    assert.equal(processTree.environValue('ANALYSIS_RUN_MARK=first\0A=b', 'ANALYSIS_RUN_MARK'), 'first');
    assert.equal(processTree.environValue('A=b\0ANALYSIS_RUN_MARK=', 'ANALYSIS_RUN_MARK'), '');
    assert.equal(processTree.environValue('XANALYSIS_RUN_MARK=no', 'ANALYSIS_RUN_MARK'), undefined);
  });
});
