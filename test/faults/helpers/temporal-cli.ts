import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../../helpers/stack';

const run = promisify(execFile);

/** The Temporal CLI that ./temporal-dev.sh installed, as an operator would use it. */
async function temporal(args: string[]): Promise<string> {
  const { stdout } = await run(
    join(ROOT, '.dev', 'venv', 'bin', 'temporal'),
    [...args, '--address', process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233', '--namespace', 'default'],
    { maxBuffer: 256 * 1024 * 1024 },
  );
  return stdout;
}

/** Every run of a workflow id (a dispatch continues as new), newest first. */
export async function runIds(workflowId: string): Promise<string[]> {
  const out = await temporal([
    'workflow',
    'list',
    '--query',
    `WorkflowId = "${workflowId}"`,
    '--output',
    'json',
  ]);
  const parsed = JSON.parse(out.trim() || '[]') as Array<{ execution: { runId: string } }>;
  return parsed.map((entry) => entry.execution.runId);
}

/** `temporal workflow show --output json` of one run: its whole history as the CLI exports it. */
export async function exportHistory(workflowId: string, runId?: string): Promise<string> {
  return temporal([
    'workflow',
    'show',
    '--workflow-id',
    workflowId,
    ...(runId ? ['--run-id', runId] : []),
    '--output',
    'json',
  ]);
}

/**
 * An exported history as searchable text: the JSON itself plus every payload decoded (payload data
 * is base64 in the export, so a secret inside one would not show in a plain grep).
 */
export function searchableHistory(exported: string): string {
  const decoded: string[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        if ((key === 'data' || key === 'encoding') && typeof inner === 'string')
          decoded.push(Buffer.from(inner, 'base64').toString('utf8'));
        walk(inner);
      }
    }
  };
  walk(JSON.parse(exported));
  return `${exported}\n${decoded.join('\n')}`;
}
