/** Inline SVG charts: drawn when the report is written, so that viewing it runs no script. */

export const esc = (text: unknown): string =>
  String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Short number for an axis or a cell: 3 significant digits, thousands separated. */
export function num(value: number): string {
  if (!Number.isFinite(value)) return '–';
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  const abs = Math.abs(value);
  return abs >= 100
    ? Math.round(value).toLocaleString('en-US')
    : value.toPrecision(abs >= 1 ? 3 : 2).replace(/\.?0+$/, '');
}

/** A duration as a reader says it: 0.42 s, 12.3 s, 4 min 12 s, 2.5 h. */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '–';
  if (seconds < 60) return `${num(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  if (seconds < 86400) return `${num(seconds / 3600)} h`;
  return `${num(seconds / 86400)} d`;
}

/** An offset on the time axis: +1.5 s on short axes, +m:ss, or +h:mm past an hour. */
export function offset(seconds: number, spanS = seconds): string {
  if (spanS < 60) return `+${num(Math.round(seconds * 10) / 10)} s`;
  const s = Math.round(seconds);
  const two = (n: number) => String(n).padStart(2, '0');
  return s < 3600
    ? `+${Math.floor(s / 60)}:${two(s % 60)}`
    : `+${Math.floor(s / 3600)}:${two(Math.floor(s / 60) % 60)} h`;
}

const W = 900;
const PAD = { left: 52, right: 12, top: 10, bottom: 24 };

function frame(height: number, body: string, label: string): string {
  return `<svg class="chart" viewBox="0 0 ${W} ${height}" role="img" aria-label="${esc(label)}">${body}</svg>`;
}

function yAxis(top: number, bottom: number, max: number, unit: string): string {
  const ticks = [0, max / 2, max];
  return ticks
    .map((tick) => {
      const y = bottom - (tick / (max || 1)) * (bottom - top);
      return `<line class="grid" x1="${PAD.left}" x2="${W - PAD.right}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}"/><text class="tick" x="${PAD.left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end">${esc(num(tick))}${tick === max && unit ? ` ${esc(unit)}` : ''}</text>`;
    })
    .join('');
}

function timeTicks(spanS: number, bottom: number): string {
  const plot = W - PAD.left - PAD.right;
  return Array.from({ length: 6 }, (_, i) => {
    const x = PAD.left + (plot * i) / 5;
    return `<text class="tick" x="${x.toFixed(1)}" y="${bottom + 16}" text-anchor="${i === 0 ? 'start' : i === 5 ? 'end' : 'middle'}">${esc(offset((spanS * i) / 5, spanS))}</text>`;
  }).join('');
}

/**
 * Bars over the time axis, one per bin; each bar's tooltip gives its time and value. `line` draws
 * a dashed level (the window of parallel jobs).
 */
export function timeBars(options: {
  values: number[];
  binS: number;
  height?: number;
  unit: string;
  label: string;
  tooltip: (value: number, fromS: number) => string;
  line?: { value: number; label: string };
  cls?: string;
}): string {
  const height = options.height ?? 160;
  const bottom = height - PAD.bottom;
  const top = PAD.top;
  const max = Math.max(1e-9, ...options.values, options.line?.value ?? 0);
  const plot = W - PAD.left - PAD.right;
  const width = plot / options.values.length;
  const bars = options.values
    .map((value, i) => {
      if (value <= 0) return '';
      const h = (value / max) * (bottom - top);
      return `<rect class="${options.cls ?? 'bar'}" x="${(PAD.left + i * width).toFixed(1)}" y="${(bottom - h).toFixed(1)}" width="${Math.max(0.5, width - (width > 4 ? 1 : 0)).toFixed(1)}" height="${h.toFixed(1)}"><title>${esc(options.tooltip(value, i * options.binS))}</title></rect>`;
    })
    .join('');
  const level = options.line
    ? (() => {
        const y = bottom - (options.line.value / max) * (bottom - top);
        return `<line class="level" x1="${PAD.left}" x2="${W - PAD.right}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}"/><text class="tick" x="${W - PAD.right}" y="${(y - 4).toFixed(1)}" text-anchor="end">${esc(options.line.label)}</text>`;
      })()
    : '';
  return frame(
    height,
    yAxis(top, bottom, max, options.unit) +
      bars +
      level +
      timeTicks(options.values.length * options.binS, bottom),
    options.label,
  );
}

/** One bar per job from its start to its end, coloured by how it ended. */
export function jobGantt(
  spans: Array<{ index: number; start_s: number; end_s: number; status: string; running: boolean }>,
  spanS: number,
): string {
  const row = Math.max(3, Math.min(14, Math.floor(300 / Math.max(1, spans.length))));
  const height = PAD.top + spans.length * row + PAD.bottom;
  const bottom = height - PAD.bottom;
  const plot = W - PAD.left - PAD.right;
  const x = (s: number) => PAD.left + (spanS > 0 ? (s / spanS) * plot : 0);
  const bars = spans
    .map((span, i) => {
      const from = x(span.start_s);
      const width = Math.max(1.5, x(span.end_s) - from);
      return `<rect class="job ${span.running ? 'running' : esc(span.status.toLowerCase())}" x="${from.toFixed(1)}" y="${PAD.top + i * row}" width="${width.toFixed(1)}" height="${Math.max(2, row - 1)}"><title>${esc(`job ${span.index + 1}: ${span.running ? 'running' : span.status.toLowerCase()}, ${offset(span.start_s)} to ${offset(span.end_s)} (${duration(span.end_s - span.start_s)})`)}</title></rect>`;
    })
    .join('');
  const labels =
    spans.length > 0
      ? `<text class="tick" x="${PAD.left - 6}" y="${PAD.top + row}" text-anchor="end">job ${spans[0]!.index + 1}</text><text class="tick" x="${PAD.left - 6}" y="${bottom}" text-anchor="end">job ${spans[spans.length - 1]!.index + 1}</text>`
      : '';
  return frame(height, bars + labels + timeTicks(spanS, bottom), 'jobs over time');
}

/** Counts of durations in bins, with the bin edges under the first, middle and last bars. */
export function histogramBars(
  histogram: { edges: number[]; counts: number[]; log: boolean },
  label: string,
): string {
  const height = 120;
  const width = 420;
  const left = 36;
  const bottom = height - 22;
  const max = Math.max(...histogram.counts, 1);
  const bar = (width - left - 8) / histogram.counts.length;
  const bars = histogram.counts
    .map((count, i) => {
      if (count === 0) return '';
      const h = (count / max) * (bottom - 8);
      return `<rect class="bar" x="${(left + i * bar).toFixed(1)}" y="${(bottom - h).toFixed(1)}" width="${Math.max(0.5, bar - 1).toFixed(1)}" height="${h.toFixed(1)}"><title>${esc(`${count} tasks took ${duration(histogram.edges[i]!)} to ${duration(histogram.edges[i + 1]!)}`)}</title></rect>`;
    })
    .join('');
  const edgeAt = (i: number, anchor: string) =>
    `<text class="tick" x="${(left + i * bar).toFixed(1)}" y="${bottom + 15}" text-anchor="${anchor}">${esc(duration(histogram.edges[i]!))}</text>`;
  const n = histogram.counts.length;
  const edges = edgeAt(0, 'start') + (n > 2 ? edgeAt(Math.floor(n / 2), 'middle') : '') + edgeAt(n, 'end');
  const axis = `<text class="tick" x="${left - 4}" y="14" text-anchor="end">${esc(num(max))}</text><text class="tick" x="${left - 4}" y="${bottom}" text-anchor="end">0</text>`;
  return `<svg class="hist" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(label)}">${axis}${bars}${edges}${histogram.log ? `<text class="tick" x="${width - 8}" y="14" text-anchor="end">log scale</text>` : ''}</svg>`;
}
