import Table from 'cli-table3';
import { printable } from './terminal-text';

/**
 * A table for the CLI's output. Colour codes are noise in a file, a pipe or a CI log, so the
 * table is plain unless stdout is a terminal. Its cells hold names and errors from data, so each
 * text cell is made printable as it is added: the table's own colour codes are added later.
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
  return table;
}
