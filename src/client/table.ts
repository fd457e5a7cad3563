import Table from 'cli-table3';

/**
 * A table for the CLI's output. Colour codes are noise in a file, a pipe or a CI log, so the
 * table is plain unless stdout is a terminal.
 */
export function textTable(options: Table.TableConstructorOptions): Table.Table {
  return new Table({ ...options, ...(process.stdout.isTTY ? {} : { style: { head: [], border: [] } }) });
}
