/**
 * Text that came from data (asset names, error messages, notes, keys) made safe to print on a
 * terminal: a name holding an escape sequence could otherwise recolour, move the cursor, rewrite
 * the line (a carriage return) or reorder what follows (the bidirectional overrides). Each such
 * character is shown as its code instead. Line breaks and tabs stay: multi-line errors read as
 * they were written. `--json` needs none of this (JSON escapes them) and `--csv` is data.
 */
export function printable(text: string): string {
  let out = '';
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (!unsafe(code)) continue;
    out += text.slice(start, i) + escape(code);
    start = i + 1;
  }
  return start === 0 ? text : out + text.slice(start);
}

function unsafe(code: number): boolean {
  if (code === 0x09 || code === 0x0a) return false;
  return (
    code < 0x20 ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x061c ||
    code === 0x200e ||
    code === 0x200f ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

function escape(code: number): string {
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}
