import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

export type AindModel = 'Metadata' | 'AnalysisDispatchModel';

let python: string | undefined;

/** The venv's python with the institute's packages (installed by scripts/install-python-formats.sh). */
export function aindPython(): string {
  python ??= execFileSync(join(ROOT, 'scripts', 'install-python-formats.sh'), {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  return python;
}

/**
 * Validates documents with the institute's own pydantic models, in one Python process: the errors
 * of each document (field path and message), empty when the model accepts it.
 */
export function aindErrors(model: AindModel, documents: unknown[]): string[][] {
  if (documents.length === 0) return [];
  const input = documents.map((document) => JSON.stringify({ model, document })).join('\n');
  const output = execFileSync(aindPython(), [join(ROOT, 'test', 'helpers', 'aind_check.py')], {
    input,
    encoding: 'utf8',
    // Metadata logs what it refused on stderr; the answers on stdout say the same.
    stdio: ['pipe', 'pipe', 'pipe'],
    maxBuffer: 256 * 1024 * 1024,
  });
  return output
    .trim()
    .split('\n')
    .map((line) => {
      const result = JSON.parse(line) as { ok: boolean; errors?: string[] };
      return result.ok ? [] : (result.errors ?? ['rejected']);
    });
}
