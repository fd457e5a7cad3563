import { duration, esc, histogramBars, jobGantt, num, offset, timeBars } from './svg';
import type { ReportData } from './types';

const STYLE = `
:root{--fg:#1d2430;--muted:#5d6878;--line:#e3e7ee;--bg:#f6f8fb;--card:#fff;--ok:#2e8b57;--bad:#c0392b;--warn:#d68910;--info:#2f6fb5;--grey:#8a94a3}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{background:#1d2430;color:#fff;padding:18px 28px}header h1{margin:0;font-size:20px;font-weight:600}header .sub{color:#c3cad6;margin-top:4px}
header a{color:#9cc3f5}main{max-width:1180px;margin:0 auto;padding:18px 28px 40px}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:16px 20px;margin:14px 0}
h2{font-size:16px;margin:0 0 10px}h3{font-size:14px;margin:14px 0 6px}p.note{margin:6px 0}.note{color:var(--muted)}
.badge{display:inline-block;padding:2px 10px;border-radius:12px;font-size:13px;font-weight:600;color:#fff;background:var(--grey);vertical-align:2px;margin-left:8px}
.badge.completed{background:var(--ok)}.badge.completed_with_failures{background:var(--warn)}.badge.failed,.badge.terminated,.badge.timed_out{background:var(--bad)}.badge.running{background:var(--info)}
.counts{display:flex;flex-wrap:wrap;gap:10px}.count{flex:1 1 120px;border:1px solid var(--line);border-radius:6px;padding:8px 12px}
.count b{display:block;font-size:22px;font-variant-numeric:tabular-nums}.count span{color:var(--muted)}
.count.succeeded b{color:var(--ok)}.count.failed b{color:var(--bad)}.count.cancelled b{color:var(--grey)}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600;font-size:12px;text-transform:uppercase;letter-spacing:.03em}td.n,th.n{text-align:right}
code{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f1f3f7;padding:1px 4px;border-radius:3px;word-break:break-word}
.grid2{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:14px}
svg.chart{width:100%;height:auto;display:block}svg.hist{width:100%;max-width:520px;height:auto;display:block}
.tick{font-size:11px;fill:var(--muted)}.grid{stroke:var(--line)}.level{stroke:var(--warn);stroke-dasharray:5 4}
.bar{fill:var(--info)}.bar.done{fill:var(--ok)}.job{fill:var(--grey)}.job.completed{fill:var(--ok)}.job.failed,.job.terminated,.job.timed_out{fill:var(--bad)}.job.running{fill:var(--info)}
.legend span{display:inline-block;margin-right:14px;color:var(--muted)}.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px;vertical-align:-1px}
dl.kv{display:grid;align-content:start;grid-template-columns:max-content 1fr;gap:3px 16px;margin:0}dl.kv dt{color:var(--muted)}dl.kv dd{margin:0}
footer{color:var(--muted);font-size:12px;text-align:center;margin-top:20px}
`;

const COUNTS: Array<[keyof NonNullable<ReportData['dispatch']['counts']>, string]> = [
  ['succeeded', 'succeeded'],
  ['skipped', 'skipped (done)'],
  ['changed_code', 'skipped (other code)'],
  ['failed', 'failed'],
  ['cancelled', 'cancelled'],
];

function outcome(data: ReportData): string {
  const d = data.dispatch;
  const cards = COUNTS.map(
    ([key, label]) =>
      `<div class="count ${key}" data-count="${key}"><b>${num(d.counts?.[key] ?? 0)}</b><span>${esc(label)}</span></div>`,
  ).join('');
  const facts: Array<[string, string]> = [
    ['tasks finished', `${num(d.tasks_finished)} of ${num(d.plan?.tasks_to_run ?? 0)}`],
    ['elapsed', duration(d.elapsed_s)],
    ['rate', `${num(d.tasks_per_s)} tasks/s`],
    ['started', d.started_at ?? '–'],
    ['ended', d.ended_at ?? (d.status === 'running' ? 'still running' : '–')],
  ];
  if (d.error)
    facts.push(['error', `<code>${esc(d.error)}</code>${d.error_type ? ` (${esc(d.error_type)})` : ''}`]);
  if (d.retry_of) facts.push(['retry of', esc(d.retry_of)]);
  return `<section id="outcome"><h2>Outcome</h2><div class="counts">${cards}</div>
<h3>Run</h3><dl class="kv">${facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${k === 'error' ? v : esc(v)}</dd>`).join('')}</dl></section>`;
}

function plan(data: ReportData): string {
  const p = data.dispatch.plan;
  const s = data.dispatch.settings;
  if (!p) return `<section id="plan"><h2>Plan</h2><p class="note">The dispatch never planned.</p></section>`;
  const rows: Array<[string, number | string | undefined]> = [
    ['assets selected', p.assets],
    ['tasks planned', p.tasks_total],
    ['new', p.tasks_new],
    ['already done', p.tasks_done],
    ['done by different code', p.tasks_changed_code],
    ['with changed inputs', p.tasks_changed_inputs],
    ['to run', p.tasks_to_run],
    ['jobs', p.jobs],
    ['left out by the cap', p.capped_from === undefined ? undefined : p.capped_from - p.tasks_to_run],
  ];
  const settings = s
    ? `parallel jobs ${s.num_parallel_workers}, tasks per job ${s.tasks_per_job}${s.dry_run ? ', dry run' : ''}${s.force ? ', forced' : ''}${s.tolerated_failure_percent !== undefined ? `, tolerating ${s.tolerated_failure_percent}%` : ''}${s.tolerated_failure_count !== undefined ? `, tolerating ${s.tolerated_failure_count} failures` : ''}`
    : '';
  return `<section id="plan"><h2>Plan</h2><div class="grid2"><table><tbody>${rows
    .filter(([, v]) => v !== undefined)
    .map(
      ([k, v]) =>
        `<tr><td>${esc(k)}</td><td class="n" data-plan="${esc(k)}">${esc(num(Number(v)))}</td></tr>`,
    )
    .join(
      '',
    )}</tbody></table><dl class="kv"><dt>analyses</dt><dd>${esc(data.dispatch.analysis_names.join(', ') || '–')}</dd><dt>settings</dt><dd>${esc(settings)}</dd>${p.warnings
    .map((w) => `<dt>warning</dt><dd>${esc(w)}</dd>`)
    .join('')}</dl></div></section>`;
}

function jobs(data: ReportData): string {
  const j = data.jobs;
  const t = data.timeline;
  const window = data.dispatch.settings?.num_parallel_workers;
  const statuses = Object.entries(j.by_status)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, count]) => `${num(count)} ${status.toLowerCase()}`)
    .join(', ');
  const legend = `<p class="legend"><span><i style="background:var(--ok)"></i>completed</span><span><i style="background:var(--bad)"></i>failed</span><span><i style="background:var(--info)"></i>running</span><span><i style="background:var(--grey)"></i>cancelled or other</span></p>`;
  const chart = j.spans
    ? jobGantt(j.spans, t.span_s) + legend
    : timeBars({
        values: j.running,
        binS: t.bin_s,
        unit: 'jobs',
        label: 'jobs running over time',
        tooltip: (v, from) => `${offset(from)}: ${num(v)} jobs running on average`,
        line: window ? { value: window, label: `window ${window}` } : undefined,
      });
  const durations = j.duration_s
    ? ` Job durations: median ${duration(j.duration_s.p50)}, 90th percentile ${duration(j.duration_s.p90)}, longest ${duration(j.duration_s.max)}.`
    : '';
  return `<section id="jobs"><h2>Jobs over time</h2><p class="note"><span data-jobs="${j.listed}">${num(j.listed)} jobs</span>${statuses ? ` (${esc(statuses)})` : ''}${j.spans ? ', one bar each' : `, as the mean number running in bins of ${duration(t.bin_s)}`}; time from ${esc(t.start)}.${esc(durations)}</p>${chart}</section>`;
}

function throughput(data: ReportData): string {
  const t = data.timeline;
  const perSecond = data.tasks.finished.map((n) => n / t.bin_s);
  const peak = Math.max(0, ...perSecond);
  return `<section id="throughput"><h2>Throughput</h2><p class="note">Tasks recorded per second, in bins of ${esc(duration(t.bin_s))}; peak ${esc(num(peak))} tasks/s.</p>${timeBars(
    {
      values: perSecond,
      binS: t.bin_s,
      unit: '/s',
      label: 'tasks finished per second over time',
      tooltip: (v, from) => `${offset(from)}: ${num(v * t.bin_s)} tasks (${num(v)}/s)`,
      cls: 'bar done',
    },
  )}</section>`;
}

function durations(data: ReportData): string {
  const analyses = data.tasks.analyses;
  if (analyses.length === 0)
    return `<section id="durations"><h2>Task durations</h2><p class="note">No records from this dispatch.</p></section>`;
  const rows = analyses
    .map((a) => {
      const p = a.duration_s;
      const cell = (v: number | undefined) =>
        `<td class="n">${v === undefined ? '–' : esc(duration(v))}</td>`;
      return `<tr data-analysis="${esc(a.analysis_name)}"><td>${esc(a.analysis_name)} <span class="note">${esc(a.versions.join(', '))}</span></td><td class="n" data-records>${num(a.records)}</td>${cell(p?.min)}${cell(p?.p50)}${cell(p?.p90)}${cell(p?.p99)}${cell(p?.max)}${cell(p?.mean)}</tr>`;
    })
    .join('');
  const charts = analyses
    .filter((a) => a.histogram)
    .map(
      (a) =>
        `<div><h3>${esc(a.analysis_name)}</h3>${histogramBars(a.histogram!, `durations of ${a.analysis_name}`)}</div>`,
    )
    .join('');
  const slowest = data.tasks.slowest.length
    ? `<h3>Slowest tasks</h3><table><thead><tr><th>task</th><th>asset</th><th>analysis</th><th>worker</th><th class="n">took</th></tr></thead><tbody>${data.tasks.slowest
        .map(
          (s) =>
            `<tr><td><code>${esc(s.hash.slice(0, 12))}</code></td><td>${esc(s.asset_name)}</td><td>${esc(s.analysis_name)}</td><td>${esc(s.worker_host)}</td><td class="n">${esc(duration(s.duration_s))}</td></tr>`,
        )
        .join('')}</tbody></table>`
    : '';
  return `<section id="durations"><h2>Task durations</h2><table><thead><tr><th>analysis</th><th class="n">records</th><th class="n">min</th><th class="n">median</th><th class="n">p90</th><th class="n">p99</th><th class="n">max</th><th class="n">mean</th></tr></thead><tbody>${rows}</tbody></table><div class="grid2">${charts}</div>${slowest}</section>`;
}

function failures(data: ReportData): string {
  const f = data.failures;
  if (f.failed === 0 && f.groups.length === 0)
    return `<section id="failures"><h2>Failures</h2><p class="note">No task failed.</p></section>`;
  const kept =
    f.sampled < f.failed
      ? ` The dispatch keeps its first ${num(f.sampled)} failures; these are grouped below.`
      : '';
  const rows = f.groups
    .map(
      (g) =>
        `<tr class="failure-group"><td class="n" data-failures>${num(g.count)}</td><td><code data-signature>${esc(g.signature)}</code>${g.example_error !== g.signature ? `<div class="note">e.g. <code>${esc(g.example_error)}</code></div>` : ''}</td><td data-assets>${g.example_assets.map(esc).join('<br>') || '–'}</td></tr>`,
    )
    .join('');
  const other = f.other_groups
    ? `<tr><td class="n">${num(f.other_failures)}</td><td colspan="2">${num(f.other_groups)} other causes</td></tr>`
    : '';
  return `<section id="failures"><h2>Failures by cause</h2><p class="note"><span data-failed="${f.failed}">${num(f.failed)} tasks failed</span>, <span data-groups="${f.groups.length + f.other_groups}">${num(f.groups.length + f.other_groups)} ${f.groups.length + f.other_groups === 1 ? 'cause' : 'causes'}</span>: messages with their numbers, ids, paths and times replaced.${kept}</p><table><thead><tr><th class="n">tasks</th><th>cause</th><th>example assets</th></tr></thead><tbody>${rows}${other}</tbody></table></section>`;
}

function resources(data: ReportData): string {
  const t = data.tasks;
  const rows = t.analyses
    .map((a) => {
      const cpu =
        a.cpu_time_s !== undefined
          ? `${duration(a.cpu_time_s)} (${num((100 * a.cpu_time_s) / Math.max(1e-9, a.wall_time_s))}% of wall, ${num(a.cpu_measured)} runs measured)`
          : '–';
      const mem = a.peak_memory_mib
        ? `median ${num(a.peak_memory_mib.p50)} MiB, p90 ${num(a.peak_memory_mib.p90)} MiB, max ${num(a.peak_memory_mib.max)} MiB`
        : '–';
      return `<tr><td>${esc(a.analysis_name)}</td><td class="n">${esc(duration(a.wall_time_s))}</td><td>${esc(cpu)}</td><td>${esc(mem)}</td></tr>`;
    })
    .join('');
  const hosts = t.workers
    .map((w) => `<tr><td>${esc(w.host)}</td><td class="n">${num(w.tasks)}</td></tr>`)
    .join('');
  const other = t.other_hosts
    ? `<tr><td>${num(t.other_hosts)} other hosts</td><td class="n">${num(t.other_host_tasks)}</td></tr>`
    : '';
  return `<section id="resources"><h2>Resources used</h2><p class="note">From the records: the runs' wall time, CPU time and peak memory (where the worker measured them).</p><table><thead><tr><th>analysis</th><th class="n">wall time</th><th>CPU time</th><th>peak memory</th></tr></thead><tbody>${rows}</tbody></table><h3>Workers</h3><table><thead><tr><th>host</th><th class="n">tasks</th></tr></thead><tbody>${hosts}${other}</tbody></table></section>`;
}

/**
 * The report as one HTML file with everything inline (style, SVG, the data as JSON): it opens from
 * a disk or a mail attachment and loads nothing from anywhere.
 */
export function renderReport(data: ReportData): string {
  const d = data.dispatch;
  // `<` escaped so that no string in the data can close the script element.
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Dispatch ${esc(d.dispatch_id)}: ${esc(d.status)}</title><style>${STYLE}</style></head>
<body><header><h1>Dispatch ${esc(d.dispatch_id)}<span class="badge ${esc(d.status)}" id="status">${esc(d.status.replace(/_/g, ' '))}</span></h1>
<div class="sub">${esc(d.analysis_names.join(', '))} · ${num(d.plan?.tasks_to_run ?? 0)} tasks in ${num(d.plan?.jobs ?? 0)} jobs · <a href="${esc(d.url)}">Temporal Web UI</a></div></header>
<main>${outcome(data)}${plan(data)}${jobs(data)}${throughput(data)}${durations(data)}${failures(data)}${resources(data)}
<footer>Generated ${esc(data.generated_at)} by <code>analysis report</code>.</footer></main>
<script type="application/json" id="report-data">${json}</script></body></html>
`;
}
