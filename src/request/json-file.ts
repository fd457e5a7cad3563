import { readFileSync } from 'node:fs';
import { InputError } from '../errors';
import { jsonTextProblem } from './json-limits';
import { describeJsonError } from './json-position';

/** Parsed contents of a user's JSON file; every failure names the flag and the file. */
export function readJsonFile(path: string, flag: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (err as Error).message})`;
    throw new InputError(`${flag} ${path} ${reason}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${flag} ${path} is not valid JSON: ${describeJsonError(text, err)}`);
  }
  const problem = jsonTextProblem(text);
  if (problem) throw new InputError(`${flag} ${path}: ${problem}`);
  return value;
}
