import Table from 'cli-table3';

/** One line of the results: a measured value, its same-run baseline, and the target it is held to. */
export interface Figure {
  id: string;
  name: string;
  value: number;
  unit: string;
  baseline?: number;
  baselineUnit?: string;
  ratio?: number;
  target: string;
  /** Absent when the figure is reported for information only. */
  met?: boolean;
  note?: string;
}

function format(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '-';
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function ratioFigure(
  figure: Omit<Figure, 'ratio' | 'met'> & { baseline: number; target: string },
  minimum: number,
): Figure {
  const ratio = figure.value / figure.baseline;
  return { ...figure, ratio, met: ratio >= minimum };
}

export function renderTable(figures: Figure[]): string {
  const table = new Table({
    head: ['', 'figure', 'ours', 'baseline', 'ratio', 'target', 'met'],
    style: { head: [], border: [] },
  });
  for (const figure of figures) {
    table.push([
      figure.id,
      figure.name,
      `${format(figure.value)} ${figure.unit}`,
      figure.baseline === undefined
        ? '-'
        : `${format(figure.baseline)} ${figure.baselineUnit ?? figure.unit}`,
      figure.ratio === undefined ? '-' : `${format(figure.ratio)}x`,
      figure.target,
      figure.met === undefined ? 'info' : figure.met ? 'yes' : 'NO',
    ]);
  }
  return table.toString();
}

/** The same table as Markdown, for the README. */
export function renderMarkdown(figures: Figure[]): string {
  const lines = [
    '| | figure | ours | baseline | ratio | target | met |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const figure of figures) {
    const baseline =
      figure.baseline === undefined
        ? '-'
        : `${format(figure.baseline)} ${figure.baselineUnit ?? figure.unit}`;
    const ratio = figure.ratio === undefined ? '-' : `${format(figure.ratio)}x`;
    const met = figure.met === undefined ? 'info' : figure.met ? 'yes' : '**no**';
    lines.push(
      `| ${figure.id} | ${figure.name} | ${format(figure.value)} ${figure.unit} | ${baseline} | ${ratio} | ${figure.target} | ${met} |`,
    );
  }
  return lines.join('\n');
}
