import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { listProblems } from '../problem-list';

/**
 * Draft 2020-12, the dialect pydantic writes. Strict about the schema itself, so that a misspelt
 * keyword in a manifest is an error at start-up instead of a check that silently never happens;
 * `useDefaults` fills in what the schema says is the default, as zod does for TypeScript analyses.
 */
const ajv = new Ajv2020({
  allErrors: true,
  useDefaults: true,
  strictSchema: true,
  strictTypes: false,
  strictTuples: false,
  strictRequired: false,
});
addFormats.default(ajv);

/** A compiled schema: the value with defaults applied, or every problem with its field named. */
export type SchemaCheck = (value: unknown) => { ok: true; value: unknown } | { ok: false; problems: string };

/** Compiles a schema; throws with Ajv's reason when it is not a valid JSON Schema. */
export function compileSchema(schema: Record<string, unknown>): SchemaCheck {
  const validate: ValidateFunction = ajv.compile(schema);
  return (value) => {
    // Defaults are written into the value: check a copy, so the caller's object stays as it was.
    const copy: unknown = structuredClone(value);
    if (validate(copy)) return { ok: true, value: copy };
    return { ok: false, problems: listProblems((validate.errors ?? []).map(describeError)) };
  };
}

/** `window[2]` from Ajv's `/window/2`. */
function fieldOf(instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((text, key) => (/^\d+$/.test(key) ? `${text}[${key}]` : text ? `${text}.${key}` : key), '');
}

/** `bin_size_s: must be > 0`, `bin_size_s: is required`, `colour: unknown field`. */
function describeError(error: ErrorObject): string {
  const field = fieldOf(error.instancePath);
  const join = (name: string) => (field ? `${field}.${name}` : name);
  if (error.keyword === 'required') return `${join(String(error.params.missingProperty))}: is required`;
  if (error.keyword === 'additionalProperties')
    return `${join(String(error.params.additionalProperty))}: unknown field`;
  const message = error.message ?? 'is invalid';
  return field ? `${field}: ${message}` : message;
}
