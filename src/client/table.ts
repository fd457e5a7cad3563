import Table from 'cli-table3';
import { printable } from './terminal-text';

/** The widest line a table prints: a terminal of 120 columns shows it without wrapping. */
export const TABLE_WIDTH = 120;
/** The narrowest a column is made to fit (padding included), unless its content is narrower. */
const NARROWEST = 8;

/**
 * A table for the CLI's output. Colour codes are noise in a file, a pipe or a CI log, so the
 * table is plain unless stdout is a terminal. Its cells hold names and errors from data, so each
 * text cell is made printable as it is added: the table's own colour codes are added later.
 * Printed, it fits TABLE_WIDTH columns: the widest columns are narrowed first, and a value too
 * long for its column is cut with "…" (commands that print tables have `--json`, some `--csv`,
 * for the whole values).
 */
export function textTable(options: Table.TableConstructorOptions): Table.Table {
  const table = new Table({
    ...options,
    ...(options.head ? { head: options.head.map(printable) } : {}),
    ...(process.stdout.isTTY ? {} : { style: { head: [], border: [] } }),
  });
  const push = table.push.bind(table);
  const cell = (value: Table.Cell) => (typeof value === 'string' ? printable(value) : value);
  table.push = (...rows: Table.HorizontalTableRow[]) =>
    push(...rows.map((row) => (Array.isArray(row) ? row.map(cell) : row)));

  const render = table.toString.bind(table);
  const given = [...(table.options.colWidths ?? [])];
  table.toString = () => {
    // Rendered once for the widths the content asks for: the layout fills in those not given,
    // measuring as it draws (wide characters count twice).
    table.options.colWidths = [...given];
    render();
    const asked = table.options.colWidths.map((width) => width ?? NARROWEST);
    table.options.colWidths = fitWidths(asked, TABLE_WIDTH);
    return render();
  };
  return table;
}

/**
 * Column widths (padding included) whose table, with its borders, is at most `limit` wide: every
 * column wider than a common cap is narrowed to it, and the cap is the largest that fits. No
 * column is narrowed below NARROWEST.
 */
export function fitWidths(widths: number[], limit: number): number[] {
  const borders = widths.length + 1;
  const capped = (cap: number) => widths.map((width) => Math.min(width, Math.max(cap, NARROWEST)));
  const total = (cap: number) => capped(cap).reduce((sum, width) => sum + width, borders);
  let low = NARROWEST;
  let high = Math.max(NARROWEST, ...widths);
  while (low < high) {
    const cap = Math.ceil((low + high) / 2);
    if (total(cap) <= limit) low = cap;
    else high = cap - 1;
  }
  return capped(low);
}
