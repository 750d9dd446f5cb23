import { describe, expect, it } from 'vitest';
import { columnNames, groupByTarget, MATRIX_MARKDOWN_BUDGET, MergeError, mergeShards, writeMatrixHtml, writeMatrixMarkdown } from './matrix.ts';
import { buildReport } from './summarize.ts';
import type { ComplianceReport, ScenarioResult } from './model.ts';
import { fixtureCatalog, fixtureReport, hostileText } from './__fixtures__/report.ts';
import { validateReport } from './schema.ts';

function shard(base: ComplianceReport, keep: (r: ScenarioResult, i: number) => boolean, startedAt: string, durationMs: number): ComplianceReport {
  return buildReport({ ...base, startedAt, durationMs, results: base.results.filter(keep), catalog: fixtureCatalog });
}

describe('mergeShards', () => {
  const whole = fixtureReport();
  const a = shard(whole, (_, i) => i % 2 === 0, '2025-01-02T03:04:05.000Z', 1000);
  const b = shard(whole, (_, i) => i % 2 === 1, '2025-01-02T03:04:04.000Z', 500);

  it('merges shards back into the whole run: every result, the same summary and rollup, the run’s span', () => {
    const merged = mergeShards([a, b]);
    expect(validateReport(JSON.parse(JSON.stringify(merged)))).toEqual([]);
    expect(merged.summary).toEqual(whole.summary);
    const sorted = (r: ComplianceReport): unknown => r.requirements.map((q) => ({ ...q, scenarios: [...q.scenarios].sort() }));
    expect(sorted(merged)).toEqual(sorted(whole));
    expect(new Set(merged.results.map((r) => r.id))).toEqual(new Set(whole.results.map((r) => r.id)));
    // Suite group order, then shard order within a group.
    expect(merged.results.map((r) => r.group)).toEqual(['record-layer', 'record-layer', 'record-layer', 'management', 'keep-conn', 'multiplexing', 'abort', 'robustness']);
    expect(merged.startedAt).toBe('2025-01-02T03:04:04.000Z');
    expect(merged.durationMs).toBe(2000);
  });

  it('returns a single report as it is', () => {
    expect(mergeShards([whole])).toBe(whole);
  });

  it.each<[string, () => ComplianceReport[], RegExp]>([
    ['no reports', () => [], /no reports to merge/],
    ['different seeds', () => [a, { ...b, seed: 7 }], /report 2 has seed 7, report 1 has 42/],
    ['different strictness', () => [a, { ...b, strict: true }], /report 2 has strict true/],
    ['different tool versions', () => [a, { ...b, tool: { ...b.tool, suiteVersion: '2' } }], /report 2 has tool/],
    ['different targets', () => [a, fixtureReport({ target: { ...whole.target, address: 'unix:/x' } })], /report 2 has target/],
    ['overlapping shards', () => [a, whole], /scenario record-layer.padding.any-length is in report 1 and report 2/],
  ])('refuses %s', (_what, reports, message) => {
    expect(() => mergeShards(reports())).toThrow(MergeError);
    expect(() => mergeShards(reports())).toThrow(message);
  });

  it('groups reports by target in order of first appearance', () => {
    const other = fixtureReport({ target: { ...whole.target, name: 'other' } });
    expect(groupByTarget([a, other, b]).map((g) => g.length)).toEqual([2, 1]);
  });
});

describe('matrix', () => {
  const one = fixtureReport();
  const two = buildReport({
    ...fixtureReport({ target: { ...one.target, name: 'second', address: 'unix:/run/second.sock' } }),
    results: one.results.map((r) => (r.id === 'record-layer.padding.max' ? { ...r, verdict: 'pass' as const, findings: [] } : r)).filter((r) => r.id !== 'abort.mid-stdin'),
    catalog: fixtureCatalog,
  });

  it('makes column names unique', () => {
    const client = fixtureReport({ target: { ...one.target, mode: 'client' } });
    expect(columnNames([one, two, client])).toEqual(['example-app (app)', 'second', 'example-app (client)']);
    expect(columnNames([one, one])).toEqual(['example-app (app) #1', 'example-app (app) #2']);
  });

  it('renders HTML cells that link to their in-page detail, with a dash where a scenario did not run', () => {
    const html = writeMatrixHtml([one, two]);
    expect(html).toContain('<th class="impl">example-app</th><th class="impl">second</th>');
    expect(html).toContain('<a href="#cell-0-scenario-record-layer.padding.max" title="example-app: fail"><span class="verdict v-fail">fail</span></a>');
    expect(html).toContain('<div class="cell-detail" id="cell-1-scenario-record-layer.padding.max"><span class="verdict v-pass">pass</span>');
    expect(html).toMatch(/<td class="sid" title="[^"]*">abort.mid-stdin<\/td><td class="cell" data-verdict="error">.*<\/td><td class="none">—<\/td>/);
    expect(html).toContain('data-uniform="false" data-all-pass="false"><td class="sid" title="serves a request');
    expect(html).toContain('id="matrix-requirements"');
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html).not.toContain(hostileText.slice(0, 20));
  });

  it('links cells to per-target pages when given', () => {
    const html = writeMatrixHtml([one, two], { detailHref: ['one.html', undefined] });
    expect(html).toContain('href="one.html#scenario-record-layer.padding.max"');
    expect(html).toContain('href="one.html#req-FCGI-3.3-padding-discarded"');
  });

  it('renders Markdown with the counts and only the rows where something did not pass', () => {
    const md = writeMatrixMarkdown([one, two], { detailHref: ['reports/one (1).html', undefined] });
    expect(md).toContain('| example-app | 2 | 1 | 1 | 1 | 2 | 1 | 8 |');
    expect(md).toContain('### Scenarios not passing everywhere (6 of 8)');
    expect(md).toContain('| `record-layer.padding.max` | [❌ fail](reports/one%20%281%29.html#scenario-record-layer.padding.max) | ✅ pass |');
    expect(md).toContain('| `abort.mid-stdin` | [💥 error](reports/one%20%281%29.html#scenario-abort.mid-stdin) | — |');
    expect(md).not.toContain('`record-layer.padding.any-length`');
  });

  it('keeps the Markdown under its budget with many implementations and scenarios', () => {
    const many = Array.from({ length: 3000 }, (_, i) => ({ ...one.results[1]!, id: `record-layer.case-${i}` }));
    const big = buildReport({ ...one, results: many, catalog: fixtureCatalog });
    const md = writeMatrixMarkdown(Array.from({ length: 6 }, (_, i) => ({ ...big, target: { ...big.target, name: `impl-${i}` } })));
    expect(md.length).toBeLessThanOrEqual(MATRIX_MARKDOWN_BUDGET);
    expect(md).toMatch(/… \d+ more rows left out to fit; see the HTML matrix\./);
  });
});
