import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { catalogOf, summarize, type Catalog } from './summarize.ts';
import { verdictRank, verdicts, type Finding, type ScenarioResult, type Verdict } from './model.ts';
import type { RequirementId } from '../spec/requirements.ts';
import { fixtureCatalog, fixtureReport } from './__fixtures__/report.ts';

const seed = 7301;

const A: RequirementId = 'FCGI-3.3-padding-discarded';
const B: RequirementId = 'FCGI-3.3-reserved-ignored';
const W: RequirementId = 'FCGI-3.3-padding-discarded-web-server';
const catalog: Catalog = {
  [A]: { section: '3.3', level: 'must', side: 'application' },
  [B]: { section: '3.3', level: 'should', side: 'application' },
  [W]: { section: '3.3', level: 'must', side: 'web-server' },
};

function res(id: string, verdict: Verdict, requirements: RequirementId[], findings: Finding[] = []): ScenarioResult {
  return { id, title: id, group: 'record-layer', requirements, verdict, expected: '', actual: '', findings, observations: {}, durationMs: 1 };
}

describe('summarize', () => {
  it('counts each verdict once, and the total', () => {
    const { summary } = summarize([res('a.1', 'pass', [A]), res('a.2', 'fail', [A]), res('a.3', 'fail', [B]), res('a.4', 'skip', [B])], catalog);
    expect(summary).toEqual({ pass: 1, info: 0, skip: 1, warn: 0, fail: 2, error: 0, total: 4 });
  });

  it('rolls up the worst verdict per requirement, untested where nothing ran, in catalog order', () => {
    const { requirements } = summarize([res('a.1', 'pass', [B]), res('a.2', 'warn', [B]), res('a.3', 'pass', [B])], catalog);
    expect(requirements).toEqual([
      { id: A, section: '3.3', level: 'must', verdict: 'untested', scenarios: [] },
      { id: B, section: '3.3', level: 'should', verdict: 'warn', scenarios: ['a.1', 'a.2', 'a.3'] },
      { id: W, section: '3.3', level: 'must', verdict: 'untested', scenarios: [] },
    ]);
  });

  it('calls a requirement nothing on the wire can show untestable, not untested', () => {
    const withUntestable: Catalog = { ...catalog, [W]: { section: '3.3', level: 'must', check: 'untestable' } };
    const { requirements } = summarize([res('a.1', 'pass', [A])], withUntestable);
    expect(requirements.map((q) => [q.id, q.verdict])).toEqual([
      [A, 'pass'],
      [B, 'untested'],
      [W, 'untestable'],
    ]);
    // and a merge, which rebuilds the catalog from the report, keeps it
    const again = summarize([res('a.1', 'pass', [A])], catalogOf({ requirements } as unknown as Parameters<typeof catalogOf>[0]));
    expect(again.requirements.find((q) => q.id === W)?.verdict).toBe('untestable');
  });

  it('lets a skipped scenario hide nothing another scenario of the requirement found; skip only when all skipped', () => {
    const mixed = summarize([res('a.1', 'skip', [A]), res('a.2', 'pass', [A]), res('a.3', 'skip', [A]), res('b.1', 'fail', [B]), res('b.2', 'skip', [B])], catalog);
    expect(mixed.requirements.find((q) => q.id === A)).toMatchObject({ verdict: 'pass', scenarios: ['a.1', 'a.2', 'a.3'] });
    expect(mixed.requirements.find((q) => q.id === B)?.verdict).toBe('fail');
    const skipped = summarize([res('a.1', 'skip', [A]), res('a.2', 'skip', [A])], catalog);
    expect(skipped.requirements.find((q) => q.id === A)?.verdict).toBe('skip');
  });

  it('gives a requirement pass when the scenario failed because of findings about another requirement', () => {
    const r = res('a.1', 'fail', [A, B], [{ requirement: B, verdict: 'fail', expected: 'x', actual: 'y' }]);
    const { requirements } = summarize([r], catalog);
    expect(requirements.find((q) => q.id === A)?.verdict).toBe('pass');
    expect(requirements.find((q) => q.id === B)?.verdict).toBe('fail');
  });

  it('gives every listed requirement the verdict when no finding explains it, and skip/error always', () => {
    const { requirements } = summarize([res('a.1', 'fail', [A]), res('a.2', 'error', [B], [{ requirement: A, verdict: 'warn', expected: '', actual: '' }])], catalog);
    expect(requirements.find((q) => q.id === A)?.verdict).toBe('error');
    expect(requirements.find((q) => q.id === B)?.verdict).toBe('error');
    expect(requirements.find((q) => q.id === A)?.scenarios).toEqual(['a.1', 'a.2']);
  });

  it('leaves out requirements of the other side unless a result names them; lists unknown ids last with section ?', () => {
    const unknown = 'FCGI-9.9-not-in-catalog' as RequirementId;
    const app = summarize([res('a.1', 'pass', [A, unknown])], catalog, { mode: 'app' });
    expect(app.requirements.map((q) => q.id)).toEqual([A, B, unknown]);
    expect(app.requirements.at(-1)).toMatchObject({ section: '?', verdict: 'pass' });
    const client = summarize([res('a.1', 'pass', [A])], catalog, { mode: 'client' });
    expect(client.requirements.map((q) => q.id)).toEqual([A, W]);
  });

  it('keeps its invariants on random results (fast-check seed 7301)', () => {
    const ids = [A, B, W] as const;
    const verdictArb = fc.constantFrom(...verdicts);
    const findingArb = fc.record({ requirement: fc.constantFrom(...ids), verdict: verdictArb, expected: fc.constant(''), actual: fc.constant('') });
    const resultArb = fc
      .record({ verdict: verdictArb, requirements: fc.subarray([...ids], { minLength: 1 }), findings: fc.array(findingArb, { maxLength: 3 }) })
      .map(({ verdict, requirements, findings }) => ({ verdict, requirements, findings }));
    fc.assert(
      fc.property(fc.array(resultArb, { maxLength: 12 }), (raw) => {
        const results = raw.map((r, i) => res(`s.${i}`, r.verdict, r.requirements, r.findings));
        const { summary, requirements } = summarize(results, catalog);
        expect(summary.total).toBe(results.length);
        expect(verdicts.reduce((n, v) => n + summary[v], 0)).toBe(results.length);
        for (const q of requirements) {
          const checking = results.filter((r) => r.requirements.includes(q.id) || r.findings.some((f) => f.requirement === q.id));
          expect(q.scenarios).toEqual(checking.map((r) => r.id));
          if (checking.length === 0) {
            expect(q.verdict).toBe('untested');
            continue;
          }
          // Never worse than the worst scenario or finding that checks it.
          const worst = Math.max(...checking.flatMap((r) => [verdictRank[r.verdict], ...r.findings.map((f) => verdictRank[f.verdict])]));
          expect(q.verdict).not.toBe('untested');
          expect(verdictRank[q.verdict as Verdict]).toBeLessThanOrEqual(worst);
          // Without findings, exactly the worst verdict of the scenarios that ran; skip only when all skipped.
          const ran = checking.filter((r) => r.verdict !== 'skip');
          if (checking.every((r) => r.findings.length === 0)) {
            expect(q.verdict).toBe(ran.length === 0 ? 'skip' : verdicts[Math.max(...ran.map((r) => verdictRank[r.verdict]))]);
          }
        }
      }),
      { seed, numRuns: 400 },
    );
  });
});

describe('buildReport', () => {
  it('assembles the report with the summary and rollup of its results', () => {
    const report = fixtureReport();
    expect(report.schemaVersion).toBe(1);
    expect(report.summary).toEqual({ pass: 2, info: 1, skip: 1, warn: 1, fail: 2, error: 1, total: 8 });
    expect(report.requirements.map((q) => [q.id, q.verdict])).toEqual([
      ['FCGI-3.3-padding-discarded', 'fail'],
      ['FCGI-3.3-reserved-ignored', 'warn'],
      ['FCGI-4.1-get-values-answered', 'info'],
      ['FCGI-4.1-limit-values', 'info'],
      ['FCGI-4.2-unknown-type-reply', 'untested'],
      ['FCGI-5.4-abort-ends-request', 'error'],
      ['FCGI-A-record-direction', 'fail'],
      ['FCGI-B-multiplexed-app', 'pass'],
    ]);
    expect('bench' in report).toBe(false);
  });

  it('catalogOf gives back what summarize needs to roll up the same report again', () => {
    const report = fixtureReport();
    const again = summarize(report.results, catalogOf(report));
    expect(again.requirements).toEqual(report.requirements);
    expect(Object.keys(catalogOf(report))).toEqual(Object.keys(fixtureCatalog).filter((id) => id !== 'FCGI-3.3-padding-discarded-web-server'));
  });
});
