import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { defineAnalysis } from '../src/analysis/define';

type UnitRow = Record<string, string>;

/** The sorted units tables of a task: its CSV files, or each asset's standard `spikes/units.csv`. */
function unitTables(fileLocations: string[], assetLocations: string[]): string[] {
  const csvFiles = fileLocations.filter((url) => url.toLowerCase().endsWith('.csv'));
  if (csvFiles.length) return csvFiles;
  return assetLocations.map((location) => `${location.replace(/\/+$/, '')}/spikes/units.csv`);
}

function csvCell(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Unit yield: how many sorted units pass the ISI-violation and firing-rate thresholds. */
export default defineAnalysis({
  name: 'Unit Yield',
  parameters: z.object({
    isi_violations: z.number().min(0),
    min_firing_rate: z.number().min(0).default(0.1),
  }),
  outputs: z.object({
    units_total: z.number().int(),
    units_passing: z.number().int(),
    yield_fraction: z.number().min(0).max(1),
    files_read: z.number().int(),
  }),
  async run({ task, parameters, resultsDir, readObject, heartbeat, log, signal }) {
    const tables = unitTables(task.input.file_location, task.input.s3_location);
    const passing: { source: string; row: UnitRow }[] = [];
    const perFile: { source: string; units_total: number; units_passing: number }[] = [];
    let columns: string[] = [];
    for (const [index, source] of tables.entries()) {
      signal.throwIfAborted();
      heartbeat({ file: index + 1, of: tables.length });
      const rows = parse(await readObject(source), {
        columns: true,
        skip_empty_lines: true,
        trim: true,
      }) as UnitRow[];
      if (rows[0] && !columns.length) columns = Object.keys(rows[0]);
      // A unit with a missing or non-numeric metric cannot be shown to pass, so it does not.
      const kept = rows.filter(
        (row) =>
          Number(row.isi_violations) <= parameters.isi_violations &&
          Number(row.firing_rate) >= parameters.min_firing_rate,
      );
      passing.push(...kept.map((row) => ({ source, row })));
      perFile.push({ source, units_total: rows.length, units_passing: kept.length });
      log('read units table', { source, units: rows.length, passing: kept.length });
    }
    const unitsTotal = perFile.reduce((sum, file) => sum + file.units_total, 0);
    const header = [...columns, 'source'];
    const lines = passing.map(({ source, row }) =>
      [...columns.map((column) => row[column] ?? ''), source].map(csvCell).join(','),
    );
    await writeFile(join(resultsDir, 'units.csv'), [header.join(','), ...lines].join('\n') + '\n');
    const outputs = {
      units_total: unitsTotal,
      units_passing: passing.length,
      yield_fraction: unitsTotal ? passing.length / unitsTotal : 0,
      files_read: tables.length,
    };
    const summary = { ...outputs, thresholds: parameters, files: perFile };
    await writeFile(join(resultsDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
    return outputs;
  },
});
