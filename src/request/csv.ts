import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { InputError } from '../errors';

const COLUMN = 'asset_id';

/**
 * Asset ids from the `asset_id` column of a CSV file, trimmed, blanks dropped, first occurrence
 * kept. Every way this can come out empty is an error, so a typo never becomes a silent empty run.
 */
export function readAssetIdsCsv(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(
      `--asset_csv ${path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  let rows: string[][];
  try {
    rows = parse(text, { bom: true, trim: true, skip_empty_lines: true, relax_column_count: true });
  } catch (err) {
    throw new InputError(`--asset_csv ${path} is not valid CSV: ${(err as Error).message}`);
  }
  const [header, ...records] = rows;
  if (!header)
    throw new InputError(`--asset_csv ${path} is empty: expected a header row with an "${COLUMN}" column`);
  const column = header.indexOf(COLUMN);
  if (column < 0) {
    throw new InputError(
      `--asset_csv ${path} has no "${COLUMN}" column (columns found: ${header.map((name) => `"${name}"`).join(', ')})`,
    );
  }
  const ids = [...new Set(records.map((record) => record[column] ?? '').filter((id) => id !== ''))];
  if (ids.length === 0) throw new InputError(`--asset_csv ${path}: the "${COLUMN}" column is empty`);
  return ids;
}
