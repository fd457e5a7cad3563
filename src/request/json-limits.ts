/**
 * What JSON.parse cannot say about a user's JSON: whether it held an integer that a JavaScript
 * number does not keep exactly (`{"seed": 9007199254740993}` parses as ...992, so two parameter
 * sets would be one task and the analysis would receive the rounded value), and whether it nests
 * deeper than the recursive walks over a filter or parameters (and the database) take. Read from
 * the text itself, in one pass, after JSON.parse has accepted it.
 */

/** Deeper than any filter or parameter set a person writes; far below a stack's or BSON's limits. */
export const MAX_JSON_DEPTH = 64;

interface Frame {
  array: boolean;
  /** The element's index in an array. */
  index: number;
  /** The member's key in an object, as its JSON string token. */
  key?: string;
}

/** The first such problem, naming where it is (`distributed_parameters[1].seed`); undefined when none. */
export function jsonTextProblem(text: string, maxDepth = MAX_JSON_DEPTH): string | undefined {
  const stack: Frame[] = [];
  let expectKey = false;
  let i = 0;
  while (i < text.length) {
    const char = text[i] as string;
    if (char === '"') {
      const end = stringEnd(text, i);
      const top = stack.at(-1);
      if (top && !top.array && expectKey) {
        top.key = text.slice(i, end);
        expectKey = false;
      }
      i = end;
    } else if (char === '{' || char === '[') {
      stack.push({ array: char === '[', index: 0 });
      if (stack.length > maxDepth) {
        return `${where(stack.slice(0, -1))}nests deeper than ${maxDepth} levels, more than a query or parameters may hold`;
      }
      expectKey = char === '{';
      i++;
    } else if (char === '}' || char === ']') {
      stack.pop();
      i++;
    } else if (char === ',') {
      const top = stack.at(-1);
      if (top?.array) top.index++;
      else expectKey = true;
      i++;
    } else if (char === '-' || (char >= '0' && char <= '9')) {
      let end = i + 1;
      while (end < text.length && '0123456789.eE+-'.includes(text[end] as string)) end++;
      const token = text.slice(i, end);
      if (/^-?\d+$/.test(token) && !Number.isSafeInteger(Number(token))) {
        return `${where(stack)}${token} is an integer beyond ±${Number.MAX_SAFE_INTEGER}, which would reach the analysis rounded (as ${Number(token)}): write it as a string`;
      }
      i = end;
    } else {
      i++;
    }
  }
  return undefined;
}

/** Index just past the string token that starts at `start`. */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
  return i + 1;
}

/** `a.b[2].c: `, or nothing at the top level. */
function where(stack: Frame[]): string {
  let path = '';
  for (const frame of stack) {
    if (frame.array) path += `[${frame.index}]`;
    else if (frame.key !== undefined) {
      const key = JSON.parse(frame.key) as string;
      path += path === '' ? key : `.${key}`;
    }
  }
  if (path.length > 200) path = `${path.slice(0, 199)}…`;
  return path === '' ? '' : `${path}: `;
}
