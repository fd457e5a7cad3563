import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors';

const PARAMETERS_FILE = 'analysis_parameters.json';

/** What an `--input_directory` holds for a dispatch, as the upstream capsule reads its data folder. */
export interface InputDirectory {
  /** The first `*.csv` by name: the asset CSV, read with `--use_data_asset_csv 1`. */
  csv?: string;
  /** `analysis_parameters.json`, when present. */
  parameters?: string;
}

export function readInputDirectory(dir: string): InputDirectory {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(
      `--input_directory ${dir} cannot be read: ${code === 'ENOTDIR' ? 'not a directory' : (code ?? (err as Error).message)}`,
    );
  }
  const isFile = (name: string) => statSync(join(dir, name), { throwIfNoEntry: false })?.isFile() === true;
  // The upstream capsule takes whichever CSV its glob yields first; sorting makes that choice stable.
  const csv = names.filter((name) => name.endsWith('.csv') && isFile(name)).sort()[0];
  return {
    ...(csv ? { csv: join(dir, csv) } : {}),
    ...(names.includes(PARAMETERS_FILE) && isFile(PARAMETERS_FILE)
      ? { parameters: join(dir, PARAMETERS_FILE) }
      : {}),
  };
}
