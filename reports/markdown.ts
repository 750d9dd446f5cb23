/**
 * The Markdown writer: a summary that fits a CI job summary or a PR comment (well under GitHub's 65 536
 * characters): the counts, then each fail, error and warn on one line with its requirement.
 */
import type { ComplianceReport, ReportWriter, ScenarioResult, Verdict } from './model.ts';
import { rollupVerdicts, verdicts } from './model.ts';
import { escapeMarkdown, formatDuration, markdownCode } from './escape.ts';

/** Lines listed per verdict before the rest are counted ("… and N more"). */
export const MARKDOWN_MAX_PER_VERDICT = 40;

const listed: readonly { readonly verdict: Verdict; readonly heading: string; readonly mark: string }[] = [
  { verdict: 'fail', heading: 'Failures', mark: '❌' },
  { verdict: 'error', heading: 'Errors', mark: '💥' },
  { verdict: 'warn', heading: 'Warnings', mark: '⚠️' },
];

/** The heading line's verdict words, worst first, zero counts left out. */
export function headline(report: ComplianceReport): string {
  const s = report.summary;
  const bad = (['error', 'fail', 'warn'] as const).filter((v) => s[v] > 0).map((v) => `${s[v]} ${v}`);
  return bad.length === 0 ? `all ${s.total} scenarios passed or skipped` : bad.join(', ');
}

/** One line of a listed result: id, requirement, title, and expected/actual. */
export function resultItem(r: ScenarioResult, mark: string): string {
  const requirement = r.findings.find((f) => f.verdict === r.verdict)?.requirement ?? r.requirements[0];
  const req = requirement === undefined ? '' : ` ${markdownCode(requirement)}`;
  const why = r.verdict === 'error' ? escapeMarkdown(r.actual || r.expected, 200) : `expected ${escapeMarkdown(r.expected, 120)}; got ${escapeMarkdown(r.actual, 120)}`;
  return `- ${mark} ${markdownCode(r.id)}${req} ${escapeMarkdown(r.title, 100)}: ${why}`;
}

/** Markdown of the report. */
export const writeMarkdown: ReportWriter = (report) => {
  const s = report.summary;
  const t = report.target;
  const out: string[] = [
    `## fcgispec: ${escapeMarkdown(t.name, 80)}: ${headline(report)}`,
    '',
    `${markdownCode(t.address)} · mode ${t.mode} · fcgispec ${escapeMarkdown(report.tool.version, 40)} (suite ${escapeMarkdown(report.tool.suiteVersion, 40)})` +
      ` · seed ${report.seed}${report.strict ? ' · strict' : ''} · started ${escapeMarkdown(report.startedAt, 40)} · ${formatDuration(report.durationMs)}`,
    '',
    `| ${verdicts.join(' | ')} | total |`,
    `|${verdicts.map(() => '---:').join('|')}|---:|`,
    `| ${verdicts.map((v) => String(s[v])).join(' | ')} | ${s.total} |`,
  ];
  const b = report.bench;
  if (b !== undefined) {
    const l = b.latencyMs;
    const counts = (c: Readonly<Record<string, number>>): string => {
      const entries = Object.entries(c).sort((x, y) => y[1] - x[1]);
      return entries.length === 0 ? 'none' : entries.map(([k, n]) => `${markdownCode(k)} ${n}`).join(', ');
    };
    const rate = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} MB/s` : `${(n / 1e3).toFixed(1)} kB/s`);
    const ms = (n: number): string => `${n < 10 ? n.toFixed(2) : n.toFixed(1)} ms`;
    out.push(
      '',
      '### Load',
      '',
      '| requests | duration | req/s | sent | received | p50 | p90 | p99 | p99.9 | max |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      `| ${b.requests} | ${formatDuration(b.durationMs)} | ${b.requestsPerSecond.toFixed(1)} | ${rate(b.bytesSentPerSecond)} | ${rate(b.bytesReceivedPerSecond)} | ${ms(l.p50)} | ${ms(l.p90)} | ${ms(l.p99)} | ${ms(l['p99.9'])} | ${ms(l.max)} |`,
      '',
      `Errors: ${counts(b.errors)}. protocolStatus: ${counts(b.protocolStatus)}. Violations under load: ${counts(b.violations)}.`,
    );
  }
  for (const { verdict, heading, mark } of listed) {
    const items = report.results.filter((r) => r.verdict === verdict);
    if (items.length === 0) continue;
    out.push('', `### ${heading} (${items.length})`, '');
    for (const r of items.slice(0, MARKDOWN_MAX_PER_VERDICT)) out.push(resultItem(r, mark));
    if (items.length > MARKDOWN_MAX_PER_VERDICT) out.push(`- … and ${items.length - MARKDOWN_MAX_PER_VERDICT} more (see the HTML or JSON report)`);
  }
  const rollup = report.requirements;
  if (rollup.length > 0) {
    const byVerdict = new Map<string, number>();
    for (const r of rollup) byVerdict.set(r.verdict, (byVerdict.get(r.verdict) ?? 0) + 1);
    const parts = rollupVerdicts.filter((v) => byVerdict.has(v)).map((v) => `${byVerdict.get(v)} ${v}`);
    out.push('', `Requirements: ${parts.join(', ')} (of ${rollup.length}).`);
  }
  out.push('');
  return out.join('\n');
};
