import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Table from 'cli-table3';
import { ROOT } from '../test/helpers/stack';
import type { Results } from './figures';

/** The two Temporal servers the local stack runs, and where a bench run on each keeps its results. */
export const SERVER_RESULTS = {
  dev: join(ROOT, 'bench', 'results.json'),
  server: join(ROOT, 'bench', 'results-server.json'),
} as const;
export type ServerKind = keyof typeof SERVER_RESULTS;

/** The server this run measures, as ./temporal-dev.sh was told (DEV_TEMPORAL). */
export function serverKind(env: NodeJS.ProcessEnv = process.env): ServerKind {
  return env.DEV_TEMPORAL === 'server' ? 'server' : 'dev';
}

const LABEL: Record<ServerKind, string> = {
  dev: 'dev server (SQLite)',
  server: 'Temporal server (PostgreSQL)',
};

function readResults(file: string): Results | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Results;
  } catch {
    return undefined;
  }
}

function fixed(value: number | undefined, digits = 2): string {
  return value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits);
}

/** Rows of P1 and P3 for one run, by what each measures. */
function rows(results: Results): Record<string, string> {
  const { p1, p3 } = results;
  const ms = (cpu: Record<string, number> | undefined, name: string) => fixed(cpu?.[name], 1);
  return {
    run: `${results.plan.mode}, ${results.startedAt?.slice(0, 16).replace('T', ' ') ?? '?'}`,
    stores: results.machine?.temporalStores
      ? `${results.machine.temporalStores.persistence} / ${results.machine.temporalStores.visibility}`
      : '-',
    'P1 baseline children/s': fixed(p1?.baseline.childrenPerSecond),
    'P1 1 task/job, jobs/s': fixed(p1?.single.jobsPerSecond),
    'P1 1 task/job, ratio to baseline': p1
      ? `${fixed(p1.single.jobsPerSecond / p1.baseline.childrenPerSecond)}x`
      : '-',
    'P1 batched, tasks/s': p1 ? `${fixed(p1.batched.tasksPerSecond)} (${p1.batched.tasksPerJob}/job)` : '-',
    'P1 Temporal CPU ms/task (1/job)': ms(p1?.single.cpuMsPerTask, 'temporal'),
    'P1 PostgreSQL CPU ms/task (1/job)': ms(p1?.single.cpuMsPerTask, 'postgres'),
    'P3 tasks/s': p3 ? `${fixed(p3.dispatch.tasksPerSecond)} (${p3.dispatch.tasks} tasks)` : '-',
    'P3 largest history, events': p3 ? String(p3.maxEvents) : '-',
    'P3 hours for 100,000 tasks': fixed(p3?.hoursFor100k, 1),
  };
}

/**
 * P1 and P3 on both servers, side by side: this run's figures beside the last run on the other
 * server (bench/results.json and bench/results-server.json). Empty when the other has not run.
 */
export function sideBySide(current: Results, kind: ServerKind): string {
  const otherKind: ServerKind = kind === 'dev' ? 'server' : 'dev';
  const other = readResults(SERVER_RESULTS[otherKind]);
  if (!other || (!other.p1 && !other.p3)) return '';
  const byKind: Record<ServerKind, Results> = { [kind]: current, [otherKind]: other } as Record<
    ServerKind,
    Results
  >;
  const dev = rows(byKind.dev);
  const server = rows(byKind.server);
  const table = new Table({
    head: ['P1 and P3', LABEL.dev, LABEL.server],
    style: { head: [], border: [] },
  });
  for (const key of Object.keys(dev)) table.push([key, dev[key]!, server[key]!]);
  return `${table.toString()}\nCompare rates only between runs of the same size on an equally idle machine.`;
}
