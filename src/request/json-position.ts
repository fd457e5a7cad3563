/**
 * Where JSON text first goes wrong, as "line L, column C" (1-based), or undefined when it parses.
 * Node 20's JSON.parse messages often omit the position, and a user fixing a long query needs it.
 */
export function jsonErrorPosition(text: string): string | undefined {
  let i = 0;
  const fail = (): never => {
    throw new JsonStop(i);
  };
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const expect = (char: string) => {
    space();
    if (text[i] !== char) fail();
    i++;
  };
  const string = () => {
    expect('"');
    while (i < text.length) {
      const char = text[i] as string;
      if (char === '"') return void i++;
      if (char < ' ') fail();
      i += char === '\\' ? 2 : 1;
    }
    fail();
  };
  const literal = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?|true|false|null/y;
  const value = (): void => {
    space();
    const open = text[i];
    if (open === '"') return string();
    if (open === '{' || open === '[') {
      const close = open === '{' ? '}' : ']';
      i++;
      space();
      if (text[i] === close) return void i++;
      for (;;) {
        if (open === '{') {
          string();
          expect(':');
        }
        value();
        space();
        if (text[i] === close) return void i++;
        expect(',');
      }
    }
    literal.lastIndex = i;
    if (!literal.exec(text)) fail();
    i = literal.lastIndex;
  };
  try {
    value();
    space();
    if (i < text.length) fail();
    return undefined;
  } catch (err) {
    if (!(err instanceof JsonStop)) throw err;
    const before = text.slice(0, err.offset).split('\n');
    return `line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
  }
}

class JsonStop {
  constructor(readonly offset: number) {}
}

/** JSON.parse's message with the position added. */
export function describeJsonError(text: string, err: unknown): string {
  const position = jsonErrorPosition(text);
  const message = (err as Error).message;
  return position ? `${message} (at ${position})` : message;
}
