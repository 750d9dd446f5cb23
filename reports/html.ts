/**
 * The HTML writer: one self-contained page (inline CSS and script, no network; a Content-Security-Policy
 * allows only our own inline code) with the summary, the requirements table, every scenario expandable to
 * expected/actual and its decoded transcript with a hex view, and filters by verdict and by spec section.
 *
 * Stable hooks for tests and users: `#summary .count[data-verdict]`, `input.filter-verdict` (value = verdict),
 * `#filter-section`, `#toggle-hex`, `#requirements tr.requirement`, `details.scenario[data-verdict]`
 * with `data-sections`, `.transcript`, ids from `anchors.ts`.
 */
import type { ComplianceReport, ReportWriter, ScenarioResult, Transcript, TranscriptLine, TranscriptRecord } from './model.ts';
import { rollupVerdicts, verdicts, type RollupVerdict } from './model.ts';
import { escapeHtml as e, formatDuration } from './escape.ts';
import { requirementAnchor, scenarioAnchor } from './anchors.ts';
import { contentSecurityPolicy, pageStyle, reportScript } from './html-assets.ts';
import { capLine } from './text.ts';


/** A verdict badge. */
export function badge(v: RollupVerdict): string {
  return `<span class="verdict v-${v}">${v}</span>`;
}

/** Sorts spec sections as the spec orders them: 2.1 < 3.3 < 3.10 < A < B. */
export function compareSections(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined || y === undefined) return x === undefined ? -1 : 1;
    const nx = Number(x);
    const ny = Number(y);
    const c = Number.isNaN(nx) || Number.isNaN(ny) ? (Number.isNaN(nx) ? 1 : 0) - (Number.isNaN(ny) ? 1 : 0) || x.localeCompare(y) : nx - ny;
    if (c !== 0) return c;
  }
  return 0;
}

/** The section filter's options: every section, plus its chapter when the chapter has several sections. */
export function sectionOptions(sections: Iterable<string>): string[] {
  const set = new Set(sections);
  const chapters = new Map<string, number>();
  for (const s of set) {
    const chapter = s.split('.')[0]!;
    if (chapter !== s) chapters.set(chapter, (chapters.get(chapter) ?? 0) + 1);
  }
  for (const [chapter, n] of chapters) if (n > 1) set.add(chapter);
  return [...set].sort(compareSections);
}

/** A page with our stylesheet and (optionally) script, allowed by hash in its CSP. */
export function htmlPage(title: string, body: string, script = ''): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta http-equiv="Content-Security-Policy" content="${e(contentSecurityPolicy(pageStyle, script))}">`,
    '<meta name="referrer" content="no-referrer">',
    `<title>${e(title)}</title>`,
    `<style>${pageStyle}</style>`,
    '</head>',
    `<body>`,
    body,
    script ? `<script>${script}</script>` : '',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** A stacked bar of verdict counts, drawn in SVG (no style attributes, so the CSP holds). */
export function summaryBar(counts: Readonly<Partial<Record<RollupVerdict, number>>>, total: number): string {
  if (total <= 0) return '';
  let x = 0;
  const rects: string[] = [];
  for (const v of rollupVerdicts) {
    const n = counts[v] ?? 0;
    if (n <= 0) continue;
    const w = (n / total) * 1000;
    rects.push(`<rect class="v-${v}" x="${x.toFixed(2)}" y="0" width="${w.toFixed(2)}" height="8"><title>${n} ${v}</title></rect>`);
    x += w;
  }
  return `<svg class="bar" viewBox="0 0 1000 8" preserveAspectRatio="none" role="img" aria-label="verdicts">${rects.join('')}</svg>`;
}

function metaList(report: ComplianceReport): string {
  const t = report.target;
  const rows: [string, string][] = [
    ['Target', `<code>${e(t.address)}</code> (${e(t.mode === 'app' ? 'application' : 'web server / client')})`],
    ['Profile', keyValues(t.profile)],
    ['Params', keyValues(t.params)],
    ['Started', e(report.startedAt)],
    ['Duration', e(formatDuration(report.durationMs))],
    ['Seed', `<code>${report.seed}</code>`],
    ['Strict', report.strict ? 'yes (should-level findings fail)' : 'no (should-level findings warn)'],
    ['Tool', `fcgispec ${e(report.tool.version)}, suite ${e(report.tool.suiteVersion)}, report schema v${report.schemaVersion}`],
  ];
  return `<dl class="meta">${rows.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl>`;
}

function keyValues(o: Readonly<Record<string, unknown>>): string {
  const entries = Object.entries(o);
  if (entries.length === 0) return '<span class="empty">none</span>';
  return entries.map(([k, v]) => `<code>${e(k)}=${e(typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v)))}</code>`).join(', ');
}

function summarySection(report: ComplianceReport): string {
  const s = report.summary;
  const cells = verdicts.map((v) => `<div class="count" data-verdict="${v}"><span class="n">${s[v]}</span><span class="label">${v}</span></div>`);
  cells.push(`<div class="count total" data-verdict="total"><span class="n">${s.total}</span><span class="label">scenarios</span></div>`);
  return `<section id="summary" class="summary" aria-label="summary">${cells.join('')}</section>\n${summaryBar(s, s.total)}`;
}

function filtersBar(sections: readonly string[]): string {
  const chips = rollupVerdicts.map(
    (v) => `<label class="chip"><input type="checkbox" class="filter-verdict" id="filter-verdict-${v}" value="${v}" checked>${badge(v)}</label>`,
  );
  const options = ['<option value="">all sections</option>', ...sections.map((s) => `<option value="${e(s)}">§${e(s)}</option>`)];
  return [
    '<nav class="filters" id="filters" aria-label="filters">',
    `<div class="group"><span class="group-label">Verdict</span>${chips.join('')}</div>`,
    `<div class="group"><label class="group-label" for="filter-section">Section</label><select id="filter-section">${options.join('')}</select></div>`,
    '<div class="group"><label class="chip"><input type="checkbox" id="toggle-hex">hex</label>',
    '<button type="button" id="expand-all">expand all</button><button type="button" id="collapse-all">collapse all</button></div>',
    '<span id="filter-status"></span>',
    '</nav>',
  ].join('\n');
}

function requirementsTable(report: ComplianceReport): string {
  if (report.requirements.length === 0) return '<p class="empty">No requirements in this report.</p>';
  const rows = report.requirements.map((r) => {
    const links = r.scenarios.map((id) => `<a href="#${e(scenarioAnchor(id))}">${e(id)}</a>`).join(' ');
    return (
      `<tr class="requirement" id="${e(requirementAnchor(r.id))}" data-filter data-verdict="${r.verdict}" data-sections="${e(r.section)}">` +
      `<td><code>${e(r.id)}</code></td><td>§${e(r.section)}</td><td>${e(r.level)}</td><td>${badge(r.verdict)}</td>` +
      `<td class="scenarios">${links || '<span class="empty">no scenario ran</span>'}</td></tr>`
    );
  });
  return [
    '<table id="requirements" class="requirements">',
    '<thead><tr><th>Requirement</th><th>Section</th><th>Level</th><th>Verdict</th><th>Scenarios</th></tr></thead>',
    `<tbody>\n${rows.join('\n')}\n</tbody>`,
    '</table>',
  ].join('\n');
}

function scenarioBlock(r: ScenarioResult, sectionOf: ReadonlyMap<string, string>): string {
  const sections = [...new Set(r.requirements.map((id) => sectionOf.get(id) ?? '?'))].join(' ');
  const why: string[] = [];
  if (r.expected) why.push(`<dt>Expected</dt><dd class="expected">${e(r.expected)}</dd>`);
  if (r.actual) why.push(`<dt>Actual</dt><dd class="actual">${e(r.actual)}</dd>`);
  why.push(`<dt>Requirements</dt><dd>${r.requirements.map((id) => `<a href="#${e(requirementAnchor(id))}">${e(id)}</a>`).join(', ') || '—'}</dd>`);
  if (r.replay) {
    const file = r.replay.file ? `, file <code>${e(r.replay.file)}</code>` : '';
    why.push(`<dt>Replay</dt><dd>seed ${r.replay.seed}, path ${e(JSON.stringify(r.replay.path))}${file}</dd>`);
  }
  const parts = [`<dl class="why">${why.join('')}</dl>`];
  if (r.findings.length > 0) {
    const rows = r.findings.map((f) => `<tr><td>${badge(f.verdict)}</td><td><code>${e(f.requirement)}</code></td><td>${e(f.expected)}</td><td>${e(f.actual)}</td></tr>`);
    parts.push('<h3>Findings</h3>', `<table class="findings"><thead><tr><th>Verdict</th><th>Requirement</th><th>Expected</th><th>Actual</th></tr></thead><tbody>${rows.join('')}</tbody></table>`);
  }
  const observations = Object.entries(r.observations);
  if (observations.length > 0) {
    const rows = observations.map(([k, v]) => `<tr><td><code>${e(k)}</code></td><td><code>${e(String(v))}</code></td></tr>`);
    parts.push('<h3>Observations</h3>', `<table class="observations"><tbody>${rows.join('')}</tbody></table>`);
  }
  if (r.transcript) parts.push('<h3>Transcript</h3>', transcriptTable(r.transcript));
  return [
    `<details class="scenario" id="${e(scenarioAnchor(r.id))}" data-filter data-verdict="${r.verdict}" data-sections="${e(sections)}" data-group="${e(r.group)}">`,
    `<summary>${badge(r.verdict)}<span class="sid">${e(r.id)}</span><span class="title">${e(r.title)}</span>` +
      `<span class="group">${e(r.group)}</span><span class="dur">${e(formatDuration(r.durationMs))}</span></summary>`,
    `<div class="scenario-body">${parts.join('\n')}</div>`,
    '</details>',
  ].join('\n');
}

const dirLabel: Record<TranscriptLine['dir'], string> = { sent: '→ sent', received: '← recv', closed: '× closed', note: '· note' };

/** A transcript as a table of decoded records, each line with its hex dump (shown with the hex toggle). */
export function transcriptTable(t: Transcript): string {
  const rows = t.lines.map((line) => {
    const head = `<td class="time">${line.atMs.toFixed(1)} ms</td><td class="conn">#${line.conn}</td><td class="dir">${dirLabel[line.dir]}</td>`;
    if (line.dir === 'closed' || line.dir === 'note') {
      return `<tr class="dir-${line.dir}">${head}<td class="bytes"></td><td>${e(line.text ?? '')}</td></tr>`;
    }
    const records = (line.records ?? []).map((r) => `<li>${recordHtml(r)}</li>`);
    if (line.text !== undefined) records.push(`<li class="empty">${e(line.text)}</li>`);
    if (records.length === 0) records.push('<li class="empty">no complete record yet</li>');
    const hex = line.hex === undefined ? '' : `<pre class="hex">${e(hexDump(line.hex, line.byteLength ?? line.hex.length / 2))}</pre>`;
    return `<tr class="dir-${line.dir}">${head}<td class="bytes">${line.byteLength ?? 0} B</td><td><ul class="records">${records.join('')}</ul>${hex}</td></tr>`;
  });
  return [
    '<table class="transcript">',
    '<thead><tr><th>Time</th><th>Conn</th><th>Dir</th><th>Bytes</th><th>Records</th></tr></thead>',
    `<tbody>${rows.join('\n')}</tbody>`,
    '</table>',
    `<p class="cap">${e(capLine(t))}</p>`,
  ].join('\n');
}

function recordHtml(r: TranscriptRecord): string {
  const head = [`id=${r.requestId}`, `len=${r.contentLength}`, `pad=${r.paddingLength}`];
  if (r.version !== 1) head.push(`version=${r.version}`);
  if (r.reserved !== 0) head.push(`reserved=0x${r.reserved.toString(16).padStart(2, '0')}`);
  return `<span class="rtype">${e(r.typeName)}</span> <span class="rhead">${head.join(' ')}</span>${r.summary ? ` ${e(r.summary)}` : ''}`;
}

/** A classic hex dump (offset, 16 bytes in two groups of 8, ASCII) of hex text; states bytes not kept. */
export function hexDump(hex: string, byteLength: number): string {
  const bytes: number[] = [];
  for (let i = 0; i + 1 < hex.length; i += 2) bytes.push(parseInt(hex.slice(i, i + 2), 16));
  const out: string[] = [];
  for (let at = 0; at < bytes.length; at += 16) {
    const row = bytes.slice(at, at + 16);
    const cells = row.map((b) => b.toString(16).padStart(2, '0'));
    const left = cells.slice(0, 8).join(' ').padEnd(23);
    const right = cells.slice(8).join(' ').padEnd(23);
    const ascii = row.map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    out.push(`${at.toString(16).padStart(4, '0')}  ${left}  ${right}  ${ascii}`);
  }
  if (byteLength > bytes.length) out.push(`… ${byteLength - bytes.length} more bytes not kept`);
  return out.join('\n');
}

function countsText(counts: Readonly<Record<string, number>>): string {
  const entries = Object.entries(counts).sort((x, y) => y[1] - x[1]);
  if (entries.length === 0) return '<span class="empty">none</span>';
  return entries.map(([k, n]) => `<code>${e(k)}</code> ${n}`).join(', ');
}

function ms(value: number): string {
  return value < 10 ? `${value.toFixed(2)} ms` : `${value.toFixed(1)} ms`;
}

function perSecond(bytes: number): string {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(2)} MB/s` : `${(bytes / 1e3).toFixed(1)} kB/s`;
}

/** The load figures of a `fcgispec bench` run, when the report has them. */
function benchBlock(report: ComplianceReport): string {
  const b = report.bench;
  if (b === undefined) return '';
  const l = b.latencyMs;
  const head = ['Requests', 'Duration', 'Req/s', 'Sent', 'Received', 'p50', 'p90', 'p99', 'p99.9', 'Max'];
  const cells = [String(b.requests), formatDuration(b.durationMs), b.requestsPerSecond.toFixed(1), perSecond(b.bytesSentPerSecond), perSecond(b.bytesReceivedPerSecond), ms(l.p50), ms(l.p90), ms(l.p99), ms(l['p99.9']), ms(l.max)];
  return [
    '<h2 id="bench-heading">Load</h2>',
    '<section id="bench" class="bench" aria-label="load">',
    `<table class="bench-figures"><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody><tr>${cells.map((c) => `<td>${e(c)}</td>`).join('')}</tr></tbody></table>`,
    `<dl class="meta"><dt>Errors</dt><dd>${countsText(b.errors)}</dd><dt>protocolStatus</dt><dd>${countsText(b.protocolStatus)}</dd><dt>Violations under load</dt><dd>${countsText(b.violations)}</dd></dl>`,
    '</section>',
  ].join('\n');
}

/** The HTML page of a report. */
export const writeHtml: ReportWriter = (report) => {
  const sectionOf = new Map<string, string>(report.requirements.map((r) => [r.id, r.section]));
  const sections = sectionOptions([...sectionOf.values(), ...report.results.flatMap((r) => r.requirements.map((id) => sectionOf.get(id) ?? '?'))]);
  const title = `fcgispec report: ${report.target.name}`;
  const body = [
    '<header>',
    `<h1>FastCGI compliance report: <span class="target-name">${e(report.target.name)}</span></h1>`,
    `<p class="subtitle">FastCGI 1.0 conformance, ${report.summary.total} scenarios, ${report.requirements.length} requirements</p>`,
    metaList(report),
    '</header>',
    summarySection(report),
    ...(report.bench === undefined ? [] : [benchBlock(report)]),
    filtersBar(sections),
    '<h2 id="requirements-heading">Requirements</h2>',
    requirementsTable(report),
    '<h2 id="scenarios-heading">Scenarios</h2>',
    `<div id="scenarios">${report.results.map((r) => scenarioBlock(r, sectionOf)).join('\n') || '<p class="empty">No scenarios ran.</p>'}</div>`,
    `<footer>Generated by fcgispec ${e(report.tool.version)} from a report of schema v${report.schemaVersion}. ` +
      'Transcripts are capped; each states its caps and the bytes it leaves out.</footer>',
  ].join('\n');
  return htmlPage(title, body, reportScript);
};
