import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { MongoClient } from 'mongodb';
import { ROOT } from '../test/helpers/stack';

export interface MachineFacts {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  loadAverageAtStart: number[];
  loadAverageAtEnd?: number[];
  versions: Record<string, string>;
  /** Where the Temporal server keeps its state: `sqlite` for the dev server, `postgres12` for the server. */
  temporalStores?: { persistence: string; visibility: string };
}

function packageVersion(name: string): string {
  return (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string })
    .version;
}

function quiet(work: () => string): string {
  try {
    return work().trim();
  } catch {
    return 'unknown';
  }
}

/** What the figures depend on: the machine, its load when the run began, and every server's version. */
export async function machineFacts(client: Client, mongo: MongoClient): Promise<MachineFacts> {
  const temporalCli = join(ROOT, '.dev', 'venv', 'bin', 'temporal');
  const system = await client.workflowService.getSystemInfo({}).catch(() => undefined);
  const cluster = await client.workflowService.getClusterInfo({}).catch(() => undefined);
  const build = await mongo
    .db('admin')
    .command({ buildInfo: 1 })
    .catch(() => undefined);
  const script = readFileSync(join(ROOT, 'temporal-dev.sh'), 'utf8');
  return {
    cores: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    node: process.version,
    loadAverageAtStart: loadavg().map((value) => Math.round(value * 100) / 100),
    temporalStores: {
      persistence: cluster?.persistenceStore || 'unknown',
      visibility: cluster?.visibilityStore || 'unknown',
    },
    versions: {
      temporalServer: system?.serverVersion ?? 'unknown',
      temporalCli: existsSync(temporalCli)
        ? quiet(() => execFileSync(temporalCli, ['--version'], { encoding: 'utf8' }))
        : 'unknown',
      // The embedded build reports only the MongoDB version it speaks; the module version is in go.mod.
      ferretdb: `${/FerretDB\/FerretDB (v\S+)/.exec(quiet(() => readFileSync(join(ROOT, 'dev', 'ferretdb', 'go.mod'), 'utf8')))?.[1] ?? 'unknown'} (speaks MongoDB ${typeof build?.version === 'string' ? build.version : '?'})`,
      versitygw: /^VERSITYGW_VERSION=(\S+)/m.exec(script)?.[1] ?? 'unknown',
      temporalSdk: packageVersion('@temporalio/worker'),
      mongodbDriver: packageVersion('mongodb'),
      awsSdkS3: packageVersion('@aws-sdk/client-s3'),
    },
  };
}
