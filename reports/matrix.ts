/**
 * Many reports as one table, Autobahn style: scenarios (and requirements) down, implementations across,
 * each cell a verdict linking to its detail. Reports of the same target are shards of one run and are
 * merged first (`mergeShards`).
 */
import type { ComplianceReport, RequirementRollup, RollupVerdict, ScenarioResult, Verdict } from './model.ts';
import { verdicts } from './model.ts';
import { scenarioGroups } from '../suites/define.ts';
import { buildReport, type Catalog, type CatalogEntry } from './summarize.ts';
import type { RequirementId } from '../spec/requirements.ts';
import { escapeHtml as e, escapeMarkdown, markdownCode } from './escape.ts';
import { requirementAnchor, scenarioAnchor } from './anchors.ts';
import { badge, compareSections, htmlPage, summaryBar } from './html.ts';
import { matrixScript } from './html-assets.ts';

/** Why reports could not be merged. */
export class MergeError extends Error {
  override readonly name = 'MergeError';
}

/** The identity of a run's target: reports with the same key are shards of one target. */
export function targetKey(report: ComplianceReport): string {
  return JSON.stringify([report.target.name, report.target.mode, report.target.address]);
}

/** Groups reports by target, in order of first appearance. */
export function groupByTarget(reports: readonly ComplianceReport[]): ComplianceReport[][] {
  const groups = new Map<string, ComplianceReport[]>();
  for (const r of reports) {
    const key = targetKey(r);
    const g = groups.get(key);
    if (g) g.push(r);
    else groups.set(key, [r]);
  }
  return [...groups.values()];
}

const groupOrder = new Map<string, number>(scenarioGroups.map((g, i) => [g, i]));

/**
 * Merges shards of one run (same target, seed, strictness and tool versions; disjoint scenarios) into one
 * report: results in suite group order, the run's span as its time, summary and rollup computed again.
 * Throws `MergeError` naming the first mismatch.
 */
export function mergeShards(shards: readonly ComplianceReport[]): ComplianceReport {
  const first = shards[0];
  if (first === undefined) throw new MergeError('no reports to merge');
  if (shards.length === 1) return first;
  const same = (what: string, of: (r: ComplianceReport) => unknown): void => {
    const want = JSON.stringify(of(first));
    shards.forEach((s, i) => {
      const got = JSON.stringify(of(s));
      if (got !== want) throw new MergeError(`not shards of one run: report ${i + 1} has ${what} ${got}, report 1 has ${want}`);
    });
  };
  same('target', (r) => [r.target.name, r.target.mode, r.target.address]);
  same('seed', (r) => r.seed);
  same('strict', (r) => r.strict);
  same('tool', (r) => [r.tool.version, r.tool.suiteVersion]);

  const byId = new Map<string, number>();
  const results: ScenarioResult[] = [];
  shards.forEach((s, i) => {
    for (const r of s.results) {
      const seen = byId.get(r.id);
      if (seen !== undefined) throw new MergeError(`not disjoint shards: scenario ${r.id} is in report ${seen + 1} and report ${i + 1}`);
      byId.set(r.id, i);
      results.push(r);
    }
  });
  const rank = (r: ScenarioResult): number => groupOrder.get(r.group) ?? groupOrder.size;
  const ordered = results.map((r, i) => ({ r, i })).sort((a, b) => rank(a.r) - rank(b.r) || a.i - b.i).map((x) => x.r);

  const catalog: Partial<Record<RequirementId, CatalogEntry>> = {};
  for (const s of shards) for (const q of s.requirements) if (q.section !== '?' && !(q.id in catalog)) catalog[q.id] = { section: q.section, level: q.level };

  const starts = shards.map((s) => Date.parse(s.startedAt));
  const valid = starts.every((t) => Number.isFinite(t));
  const start = valid ? Math.min(...starts) : NaN;
  const end = valid ? Math.max(...shards.map((s, i) => starts[i]! + s.durationMs)) : NaN;
  const bench = shards.find((s) => s.bench !== undefined)?.bench;
  return buildReport({
    tool: first.tool,
    target: first.target,
    startedAt: valid ? new Date(start).toISOString() : first.startedAt,
    durationMs: valid ? end - start : shards.reduce((n, s) => n + s.durationMs, 0),
    seed: first.seed,
    strict: first.strict,
    results: ordered,
    catalog: catalog as Catalog,
    ...(bench === undefined ? {} : { bench }),
  });
}

/** Options of the matrix writers. */
export interface MatrixOptions {
  /**
   * Per report (same index), the address of its own HTML report; cells then link there (`href#scenario-…`).
   * Without it, the HTML matrix carries each cell's detail itself and the Markdown cells are not links.
   */
  readonly detailHref?: readonly (string | undefined)[];
}

/** Column names: the target names, made unique with the mode or a number when two share a name. */
export function columnNames(reports: readonly ComplianceReport[]): string[] {
  const names = reports.map((r) => r.target.name);
  const dup = (n: string): boolean => names.filter((x) => x === n).length > 1;
  const withMode = reports.map((r, i) => (dup(names[i]!) ? `${r.target.name} (${r.target.mode})` : r.target.name));
  const count = new Map<string, number>();
  return withMode.map((n) => {
    const k = (count.get(n) ?? 0) + 1;
    count.set(n, k);
    return withMode.filter((x) => x === n).length > 1 ? `${n} #${k}` : n;
  });
}

interface Row<T> {
  readonly id: string;
  readonly label: string;
  readonly group: string;
  readonly cells: readonly (T | undefined)[];
}

function scenarioRows(reports: readonly ComplianceReport[]): Row<ScenarioResult>[] {
  const rows = new Map<string, { label: string; group: string; cells: (ScenarioResult | undefined)[] }>();
  reports.forEach((rep, col) => {
    for (const r of rep.results) {
      let row = rows.get(r.id);
      if (!row) rows.set(r.id, (row = { label: r.title, group: r.group, cells: Array<ScenarioResult | undefined>(reports.length).fill(undefined) }));
      row.cells[col] = r;
    }
  });
  const list = [...rows.entries()].map(([id, r], i) => ({ id, ...r, i }));
  const rank = (g: string): number => groupOrder.get(g) ?? groupOrder.size;
  return list.sort((a, b) => rank(a.group) - rank(b.group) || a.i - b.i);
}

function requirementRows(reports: readonly ComplianceReport[]): Row<RequirementRollup>[] {
  const rows = new Map<string, { label: string; group: string; cells: (RequirementRollup | undefined)[] }>();
  reports.forEach((rep, col) => {
    for (const q of rep.requirements) {
      let row = rows.get(q.id);
      if (!row) rows.set(q.id, (row = { label: `§${q.section}`, group: q.section, cells: Array<RequirementRollup | undefined>(reports.length).fill(undefined) }));
      row.cells[col] = q;
    }
  });
  return [...rows.entries()].map(([id, r]) => ({ id, ...r })).sort((a, b) => compareSections(a.group, b.group));
}

function uniform(cells: readonly ({ readonly verdict: string } | undefined)[]): boolean {
  return cells.every((c) => c?.verdict === cells[0]?.verdict);
}

const cellId = (col: number, scenarioId: string): string => `cell-${col}-${scenarioAnchor(scenarioId)}`;

/** The matrix as one self-contained HTML page. */
export function writeMatrixHtml(reports: readonly ComplianceReport[], options: MatrixOptions = {}): string {
  const names = columnNames(reports);
  const external = options.detailHref;
  const head = `<tr><th>${'Scenario'}</th>${names.map((n) => `<th class="impl">${e(n)}</th>`).join('')}</tr>`;

  const summaryRows = reports.map((r, i) => {
    const link = external?.[i] ? `<a href="${e(external[i]!)}">${e(names[i]!)}</a>` : e(names[i]!);
    const counts = verdicts.map((v) => `<td class="cell">${r.summary[v]}</td>`).join('');
    return `<tr><td>${link}</td><td><code>${e(r.target.address)}</code></td><td>${r.target.mode}</td>${counts}<td class="cell">${r.summary.total}</td><td class="barcell">${summaryBar(r.summary, r.summary.total)}</td></tr>`;
  });

  const scenarioBody: string[] = [];
  let lastGroup = '';
  for (const row of scenarioRows(reports)) {
    if (row.group !== lastGroup) {
      scenarioBody.push(`<tr class="group-row"><th colspan="${names.length + 1}">${e(row.group)}</th></tr>`);
      lastGroup = row.group;
    }
    const cells = row.cells.map((c, col) => {
      if (!c) return '<td class="none">—</td>';
      const href = external?.[col] ? `${external[col]}#${scenarioAnchor(row.id)}` : `#${cellId(col, row.id)}`;
      return `<td class="cell" data-verdict="${c.verdict}"><a href="${e(href)}" title="${e(`${names[col]}: ${c.verdict}`)}">${badge(c.verdict)}</a></td>`;
    });
    const worst = row.cells.some((c) => c !== undefined && c.verdict !== 'pass');
    scenarioBody.push(
      `<tr class="matrix-row" data-uniform="${uniform(row.cells)}" data-all-pass="${!worst}"><td class="sid" title="${e(row.label)}">${e(row.id)}</td>${cells.join('')}</tr>`,
    );
  }

  const requirementBody = requirementRows(reports).map((row) => {
    const cells = row.cells.map((c, col) => {
      if (!c) return '<td class="none">—</td>';
      const inner = badge(c.verdict);
      const href = external?.[col] ? `${external[col]}#${requirementAnchor(row.id)}` : undefined;
      return `<td class="cell" data-verdict="${c.verdict}">${href ? `<a href="${e(href)}">${inner}</a>` : inner}</td>`;
    });
    const notPass = row.cells.some((c) => c !== undefined && c.verdict !== 'pass');
    return `<tr class="matrix-row" data-uniform="${uniform(row.cells)}" data-all-pass="${!notPass}"><td class="sid">${e(row.id)}</td><td>${e(row.label)}</td>${cells.join('')}</tr>`;
  });

  const details: string[] = [];
  if (!external) {
    reports.forEach((rep, col) => {
      details.push(`<h3>${e(names[col]!)}</h3>`);
      for (const r of rep.results) {
        const why = [r.expected ? `<dt>Expected</dt><dd>${e(r.expected)}</dd>` : '', r.actual ? `<dt>Actual</dt><dd>${e(r.actual)}</dd>` : ''].join('');
        details.push(
          `<div class="cell-detail" id="${e(cellId(col, r.id))}">${badge(r.verdict)} <code>${e(r.id)}</code> ${e(r.title)}` +
            `${r.requirements.length ? ` <span class="rhead">${e(r.requirements.join(', '))}</span>` : ''}${why ? `<dl class="why">${why}</dl>` : ''}</div>`,
        );
      }
    });
  }

  const body = [
    '<header>',
    `<h1>FastCGI compliance matrix: <span class="target-name">${reports.length} implementation${reports.length === 1 ? '' : 's'}</span></h1>`,
    `<p class="subtitle">fcgispec ${e(reports[0]?.tool.version ?? '?')}; each cell links to its detail</p>`,
    '</header>',
    '<h2>Implementations</h2>',
    `<table class="impls"><thead><tr><th>Implementation</th><th>Address</th><th>Mode</th>${verdicts.map((v) => `<th>${v}</th>`).join('')}<th>total</th><th></th></tr></thead>`,
    `<tbody>${summaryRows.join('\n')}</tbody></table>`,
    '<nav class="filters" id="filters" aria-label="filters"><div class="group">',
    '<label class="chip"><input type="checkbox" id="only-differences">only rows where implementations differ</label>',
    '<label class="chip"><input type="checkbox" id="only-not-pass">only rows with a verdict other than pass</label>',
    '</div><span id="filter-status"></span></nav>',
    '<h2>Scenarios</h2>',
    `<table class="matrix" id="matrix-scenarios"><thead>${head}</thead><tbody>${scenarioBody.join('\n')}</tbody></table>`,
    '<h2>Requirements</h2>',
    `<table class="matrix" id="matrix-requirements"><thead><tr><th>Requirement</th><th>Section</th>${names.map((n) => `<th class="impl">${e(n)}</th>`).join('')}</tr></thead>`,
    `<tbody>${requirementBody.join('\n')}</tbody></table>`,
    details.length ? `<h2>Details</h2>\n<div id="details">${details.join('\n')}</div>` : '',
    '<footer>Generated by fcgispec from reports of schema v1.</footer>',
  ].join('\n');
  return htmlPage(`fcgispec matrix (${reports.length})`, body, matrixScript);
}

const marks: Readonly<Record<RollupVerdict, string>> = {
  pass: '✅',
  info: 'ℹ️',
  skip: '⏭️',
  warn: '⚠️',
  fail: '❌',
  error: '💥',
  untested: '·',
  untestable: '∅',
};

/** Characters of Markdown the matrix stays under (GitHub comments take 65 536). */
export const MATRIX_MARKDOWN_BUDGET = 60_000;

/**
 * The matrix in Markdown: the counts per implementation, then the scenarios where some implementation did
 * not pass (rows where all pass are counted, not listed), within `MATRIX_MARKDOWN_BUDGET` characters.
 */
export function writeMatrixMarkdown(reports: readonly ComplianceReport[], options: MatrixOptions = {}): string {
  const names = columnNames(reports);
  const out: string[] = [
    `## fcgispec matrix: ${reports.length} implementation${reports.length === 1 ? '' : 's'}`,
    '',
    `| implementation | ${verdicts.join(' | ')} | total |`,
    `|---|${verdicts.map(() => '---:').join('|')}|---:|`,
    ...reports.map((r, i) => `| ${escapeMarkdown(names[i]!, 60)} | ${verdicts.map((v) => r.summary[v]).join(' | ')} | ${r.summary.total} |`),
  ];
  const rows = scenarioRows(reports);
  const shown = rows.filter((row) => row.cells.some((c) => c !== undefined && c.verdict !== 'pass'));
  out.push('', `### Scenarios not passing everywhere (${shown.length} of ${rows.length})`, '');
  if (shown.length > 0) {
    out.push(`| scenario | ${names.map((n) => escapeMarkdown(n, 40)).join(' | ')} |`, `|---|${names.map(() => ':---:').join('|')}|`);
    let size = out.reduce((n, l) => n + l.length + 1, 0);
    let listed = 0;
    for (const row of shown) {
      const cells = row.cells.map((c, col) => {
        if (!c) return '—';
        const text = `${marks[c.verdict]} ${c.verdict}`;
        const href = options.detailHref?.[col];
        return href ? `[${text}](${encodeURI(`${href}#${scenarioAnchor(row.id)}`).replace(/[()]/g, (p) => (p === '(' ? '%28' : '%29'))})` : text;
      });
      const line = `| ${markdownCode(row.id, 80, true)} | ${cells.join(' | ')} |`;
      if (size + line.length + 200 > MATRIX_MARKDOWN_BUDGET) break;
      out.push(line);
      size += line.length + 1;
      listed++;
    }
    if (listed < shown.length) out.push('', `… ${shown.length - listed} more rows left out to fit; see the HTML matrix.`);
  }
  out.push('');
  return out.join('\n');
}

/** The verdicts a group cell counts, worst first, and their marks. */
const groupCellVerdicts: readonly Verdict[] = ['error', 'fail', 'warn', 'pass', 'info', 'skip'];

/** Options of `writeGroupMatrixMarkdown`. */
export interface GroupMatrixOptions {
  /** The row a result counts in; its suite group by default. */
  readonly groupOf?: (result: ScenarioResult) => string;
}

/**
 * The matrix by group of scenarios, in Markdown: one row per group (suite order, then first appearance), one
 * column per implementation, each cell the count of that group's scenarios by verdict (`❌ 2 ✅ 12`), worst
 * first; the last row totals each implementation.
 */
export function writeGroupMatrixMarkdown(reports: readonly ComplianceReport[], options: GroupMatrixOptions = {}): string {
  const groupOf = options.groupOf ?? ((r: ScenarioResult) => r.group);
  const names = columnNames(reports);
  const seen = [...new Set(reports.flatMap((r) => r.results.map(groupOf)))];
  const groups = seen
    .map((g, i) => ({ g, i }))
    .sort((a, b) => (groupOrder.get(a.g) ?? groupOrder.size) - (groupOrder.get(b.g) ?? groupOrder.size) || a.i - b.i)
    .map((x) => x.g);
  const cell = (results: readonly ScenarioResult[]): string => {
    if (results.length === 0) return '—';
    const parts = groupCellVerdicts.map((v) => [v, results.filter((r) => r.verdict === v).length] as const).filter(([, n]) => n > 0);
    return parts.map(([v, n]) => `${marks[v]} ${n}`).join(' ');
  };
  const out = [
    `| group | ${names.map((n) => escapeMarkdown(n, 40)).join(' | ')} |`,
    `|---|${names.map(() => ':---').join('|')}|`,
    ...groups.map((g) => `| ${escapeMarkdown(g, 40)} | ${reports.map((r) => cell(r.results.filter((x) => groupOf(x) === g))).join(' | ')} |`),
    `| **all** | ${reports.map((r) => cell(r.results)).join(' | ')} |`,
    '',
    `${groupCellVerdicts.map((v) => `${marks[v]} ${v}`).join(' · ')}`,
    '',
  ];
  return out.join('\n');
}
