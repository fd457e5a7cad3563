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

/** Payload encodings whose data this check reads: anything else (an encrypted codec's) it cannot. */
const READABLE = new Set(['json/plain', 'json/protobuf', 'binary/plain', 'binary/null']);

export interface SearchableHistory {
  /** The export itself plus every payload's metadata and data, decoded. */
  text: string;
  /** Payloads found in the export (objects with a `metadata` map or base64 `data`). */
  payloads: number;
  /** Payloads whose metadata and data were all decoded and read in full. */
  decoded: number;
  /** Where each payload that could not be read is, and why. */
  unreadable: string[];
}

/** Base64 that is really base64: decoding it and encoding it again gives it back. */
function fromBase64(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

/**
 * An exported history as searchable text: payload data and metadata are base64 in the export, so
 * a secret inside one would not show in a plain grep. Every payload is counted, and one the check
 * cannot read in full (bad base64, an encoding it does not know, JSON that does not parse) is
 * named, so that a search can prove it saw everything it searched.
 */
export function searchableHistory(exported: string): SearchableHistory {
  const decoded: string[] = [];
  const unreadable: string[] = [];
  let payloads = 0;
  const readPayload = (payload: Record<string, unknown>, where: string): void => {
    payloads++;
    const metadata = (payload.metadata ?? {}) as Record<string, unknown>;
    const fields: Record<string, string> = {};
    for (const [key, value] of Object.entries(metadata)) {
      const bytes = typeof value === 'string' ? fromBase64(value) : undefined;
      if (!bytes) return void unreadable.push(`${where}: metadata ${key} is not base64`);
      fields[key] = bytes.toString('utf8');
    }
    const encoding = fields.encoding ?? '';
    if (!READABLE.has(encoding)) return void unreadable.push(`${where}: encoding "${encoding}"`);
    let data = '';
    if (payload.data !== undefined) {
      const bytes = typeof payload.data === 'string' ? fromBase64(payload.data) : undefined;
      if (!bytes) return void unreadable.push(`${where}: data is not base64`);
      data = bytes.toString('utf8');
      if (encoding.startsWith('json/')) {
        try {
          JSON.parse(data);
        } catch {
          return void unreadable.push(`${where}: ${encoding} data is not JSON`);
        }
      }
    }
    decoded.push(...Object.values(fields), data);
  };
  const walk = (value: unknown, where: string): void => {
    if (Array.isArray(value)) value.forEach((item, i) => walk(item, `${where}[${i}]`));
    else if (value && typeof value === 'object') {
      const object = value as Record<string, unknown>;
      const isPayload =
        (object.metadata !== null &&
          typeof object.metadata === 'object' &&
          !Array.isArray(object.metadata)) ||
        typeof object.data === 'string';
      if (isPayload) readPayload(object, where);
      for (const [key, inner] of Object.entries(object))
        if (!(isPayload && (key === 'metadata' || key === 'data'))) walk(inner, `${where}.${key}`);
    }
  };
  walk(JSON.parse(exported), '');
  return {
    text: `${exported}\n${decoded.join('\n')}`,
    payloads,
    decoded: payloads - unreadable.length,
    unreadable,
  };
}
