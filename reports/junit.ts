/**
 * The JUnit XML writer, for CI test tabs. One `<testsuite>` per report, one `<testcase>` per scenario with the
 * scenario's group as its class. `warn` and `info` have no JUnit element, so they travel as properties and in
 * `<system-out>`, where CI tools show them next to a passing test.
 */
import type { ReportWriter, Verdict } from './model.ts';
import { escapeXml, escapeXmlText } from './escape.ts';
import { resultDetailText, transcriptText } from './text.ts';

// Exhaustive: a new verdict does not compile until it is mapped here.
const junitChild: Readonly<Record<Verdict, 'failure' | 'error' | 'skipped' | null>> = {
  pass: null,
  info: null,
  skip: 'skipped',
  warn: null,
  fail: 'failure',
  error: 'error',
};

// Whose transcript goes into system-out (it is what someone debugging the CI failure needs).
const withTranscript: Readonly<Record<Verdict, boolean>> = { pass: false, info: false, skip: false, warn: true, fail: true, error: true };

const seconds = (ms: number): string => (ms / 1000).toFixed(3);

/** JUnit XML of the report. */
export const writeJunit: ReportWriter = (report) => {
  const s = report.summary;
  const suiteName = `fcgispec ${report.target.name} (${report.target.mode})`;
  const counts = `tests="${s.total}" failures="${s.fail}" errors="${s.error}" skipped="${s.skip}" time="${seconds(report.durationMs)}"`;
  const prop = (name: string, value: string | number | boolean): string =>
    `<property name="${escapeXml(name)}" value="${escapeXml(String(value))}"/>`;
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${escapeXml(suiteName)}" ${counts} timestamp="${escapeXml(report.startedAt)}">`,
    `  <testsuite name="${escapeXml(suiteName)}" ${counts} timestamp="${escapeXml(report.startedAt)}">`,
    '    <properties>',
    ...[
      prop('fcgispec.version', report.tool.version),
      prop('fcgispec.suiteVersion', report.tool.suiteVersion),
      prop('fcgispec.schemaVersion', report.schemaVersion),
      prop('target.name', report.target.name),
      prop('target.address', report.target.address),
      prop('target.mode', report.target.mode),
      prop('seed', report.seed),
      prop('strict', report.strict),
      prop('summary.warn', s.warn),
      prop('summary.info', s.info),
    ].map((p) => `      ${p}`),
    '    </properties>',
  ];
  for (const r of report.results) {
    const child = junitChild[r.verdict];
    out.push(`    <testcase classname="${escapeXml(`fcgispec.${r.group}`)}" name="${escapeXml(`${r.id}: ${r.title}`)}" time="${seconds(r.durationMs)}">`);
    out.push('      <properties>');
    out.push(`        ${prop('verdict', r.verdict)}`);
    for (const id of r.requirements) out.push(`        ${prop('requirement', id)}`);
    for (const f of r.findings) out.push(`        ${prop(`finding.${f.verdict}`, `${f.requirement}: expected ${f.expected}; got ${f.actual}`)}`);
    for (const [k, v] of Object.entries(r.observations)) out.push(`        ${prop(`observed.${k}`, v)}`);
    if (r.replay) out.push(`        ${prop('replay.seed', r.replay.seed)}`, `        ${prop('replay.path', r.replay.path)}`);
    out.push('      </properties>');
    if (child !== null) {
      const message = r.verdict === 'skip' ? r.expected || r.actual : `expected ${r.expected}; got ${r.actual}`;
      const body = child === 'skipped' ? '' : escapeXmlText([`expected: ${r.expected}`, `actual:   ${r.actual}`].join('\n'));
      out.push(`      <${child} message="${escapeXml(message)}" type="${r.verdict}">${body}</${child}>`);
    }
    const text = [`verdict: ${r.verdict}`, ...resultDetailText(r)];
    if (r.transcript && withTranscript[r.verdict]) text.push('transcript:', ...transcriptText(r.transcript));
    out.push(`      <system-out>${escapeXmlText(text.join('\n'))}</system-out>`);
    out.push('    </testcase>');
  }
  out.push('  </testsuite>', '</testsuites>', '');
  return out.join('\n');
};
