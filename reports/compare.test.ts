import { describe, expect, it } from 'vitest';
import { compareReports, formatComparison } from './compare.ts';
import { buildReport } from './summarize.ts';
import type { ComplianceReport, ScenarioResult, Verdict } from './model.ts';
import { fixtureCatalog, fixtureReport } from './__fixtures__/report.ts';

function withVerdicts(base: ComplianceReport, change: Readonly<Record<string, Verdict>>, drop: readonly string[] = [], add: readonly ScenarioResult[] = []): ComplianceReport {
  const results = [...base.results.filter((r) => !drop.includes(r.id)).map((r) => (change[r.id] ? { ...r, verdict: change[r.id]!, findings: [] } : r)), ...add];
  return buildReport({ ...base, results, catalog: fixtureCatalog });
}

describe('compareReports', () => {
  const before = fixtureReport();

  it('finds nothing between a report and itself', () => {
    const c = compareReports(before, before);
    expect(c).toMatchObject({ better: [], worse: [], added: [], removed: [], regressions: 0, unchanged: before.results.length });
    expect(c.targetChanged).toBeUndefined();
  });

  it('lists better and worse by verdict rank, and counts regressions', () => {
    const after = withVerdicts(before, {
      'record-layer.padding.max': 'pass', // fail → pass
      'record-layer.padding.any-length': 'warn', // pass → warn
      'abort.mid-stdin': 'fail', // error → fail: better by rank
      'multiplexing.interleaved': 'info', // pass → info: worse by rank
    });
    const c = compareReports(before, after);
    expect(c.better.map((x) => [x.id, x.from, x.to])).toEqual([
      ['record-layer.padding.max', 'fail', 'pass'],
      ['abort.mid-stdin', 'error', 'fail'],
    ]);
    expect(c.worse.map((x) => [x.id, x.from, x.to])).toEqual([
      ['record-layer.padding.any-length', 'pass', 'warn'],
      ['multiplexing.interleaved', 'pass', 'info'],
    ]);
    expect(c.regressions).toBe(2);
    expect(c.unchanged).toBe(before.results.length - 4);
    // FCGI-B-multiplexed-app: keep-conn.second-request skips, so multiplexing.interleaved decides it.
    expect(c.requirements.worse.map((x) => [x.id, x.from, x.to])).toEqual([['FCGI-B-multiplexed-app', 'pass', 'info']]);
    expect(c.requirements.better.map((x) => [x.id, x.from, x.to])).toEqual([
      ['FCGI-3.3-padding-discarded', 'fail', 'warn'],
      ['FCGI-5.4-abort-ends-request', 'error', 'fail'],
    ]);
  });

  it('lists added and removed scenarios apart, not as regressions', () => {
    const extra = { ...before.results[0]!, id: 'record-layer.new', verdict: 'fail' as const };
    const c = compareReports(before, withVerdicts(before, {}, ['keep-conn.second-request'], [extra]));
    expect(c.added).toEqual([{ id: 'record-layer.new', title: extra.title, from: 'untested', to: 'fail' }]);
    expect(c.removed.map((x) => x.id)).toEqual(['keep-conn.second-request']);
    expect(c.regressions).toBe(0);
  });

  it('notes a change of target and formats the result', () => {
    const other = fixtureReport({ target: { ...before.target, name: 'other' } });
    const c = compareReports(before, withVerdicts(other, { 'record-layer.padding.any-length': 'fail' }));
    expect(c.targetChanged).toEqual({ from: 'example-app (app, tcp:127.0.0.1:9000)', to: 'other (app, tcp:127.0.0.1:9000)' });
    const lines = formatComparison(c);
    expect(lines[0]).toMatch(/^note: comparing different targets/);
    expect(lines).toContain('  pass → fail  record-layer.padding.any-length  skips padding of every length 0..255');
    expect(lines.at(-1)).toBe('1 regression, 0 better, 7 unchanged, 0 new, 0 removed');
  });
});
