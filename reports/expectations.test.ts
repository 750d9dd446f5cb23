import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { applyExpectations, formatGate, parseExpectations, stripJsonComments, type Expectations } from './expectations.ts';
import { fixtureReport } from './__fixtures__/report.ts';
import { buildReport } from './summarize.ts';
import type { ComplianceReport, Verdict } from './model.ts';
import { fixtureCatalog } from './__fixtures__/report.ts';

const seed = 99;

describe('stripJsonComments', () => {
  it('removes line and block comments, keeping strings that look like comments, and line positions', () => {
    const text = [
      '{ // a comment',
      '  "url": "http://example.com/*not a comment*/", /* block',
      '  spanning */ "q": "say \\"// hi\\"", "b": "\\\\" // after an escaped backslash',
      '}',
    ].join('\n');
    const stripped = stripJsonComments(text);
    expect(JSON.parse(stripped)).toEqual({ url: 'http://example.com/*not a comment*/', q: 'say "// hi"', b: '\\' });
    expect(stripped.split('\n').map((l) => l.length)).toEqual(text.split('\n').map((l) => l.length));
  });

  it('throws on an unterminated block comment', () => {
    expect(() => stripJsonComments('{\n/* open')).toThrow('unterminated /* comment at line 2');
  });

  it('leaves any JSON text as it is, and comments between tokens change nothing (fast-check seed 99)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string(), (v, comment) => {
        const json = JSON.stringify(v, null, 1);
        expect(stripJsonComments(json)).toBe(json);
        const safe = comment.replace(/\*\//g, '').replace(/\n/g, ' ');
        const commented = json.split('\n').map((line) => `${line} // ${safe}\n/* ${safe} */`).join('\n');
        expect(JSON.parse(stripJsonComments(commented))).toEqual(JSON.parse(json));
      }),
      { seed, numRuns: 300 },
    );
  });
});

describe('parseExpectations', () => {
  it('reads a commented file', () => {
    const parsed = parseExpectations(`{
      // php-fpm's known deviations
      "targets": { "php-fpm": {
        "failures": { "a.b": { "verdict": "fail", "reason": "drops the connection" } }, /* see issue 12 */
        "flaky": { "c.d": { "reason": "timing" } } } } }`);
    expect(parsed).toEqual({
      ok: true,
      expectations: { targets: { 'php-fpm': { failures: { 'a.b': { verdict: 'fail', reason: 'drops the connection' } }, flaky: { 'c.d': { reason: 'timing' } } } } },
    });
  });

  it.each([
    ['{ "targets": ', /^not JSON: /],
    ['{ /* x', /^not JSON: unterminated \/\* comment at line 1/],
    ['{}', /^not an expectations file: \/ is missing required property "targets"/],
    ['{ "targets": { "x": { "failures": { "a.b": { "verdict": "bad", "reason": "" } } } } }', /\/targets\/x\/failures\/a.b\/verdict must be one of/],
    ['{ "targets": { "x": { "flaky": { "a.b": {} } } } }', /\/targets\/x\/flaky\/a.b is missing required property "reason"/],
    ['{ "targets": { "x": { "known": {} } } }', /\/targets\/x\/known is not an allowed property/],
  ])('rejects %s', (text, message) => {
    const parsed = parseExpectations(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toMatch(message);
  });
});

function reportWith(verdicts: Readonly<Record<string, Verdict>>, strict = false): ComplianceReport {
  const base = fixtureReport({ strict });
  const results = base.results.map((r) => (verdicts[r.id] ? { ...r, verdict: verdicts[r.id]!, findings: [] } : r));
  return buildReport({ ...base, results, catalog: fixtureCatalog });
}

// The fixture has: fail record-layer.padding.max, fail robustness.fuzz.output-direction, error abort.mid-stdin,
// warn record-layer.reserved.nonzero, skip keep-conn.second-request.
const known: Expectations = {
  targets: {
    'example-app': {
      failures: {
        'record-layer.padding.max': { verdict: 'fail', reason: 'rejects padding' },
        'robustness.fuzz.output-direction': { verdict: 'fail', reason: 'echoes input' },
        'abort.mid-stdin': { verdict: 'error', reason: 'never ends aborted requests' },
        'keep-conn.second-request': { verdict: 'fail', reason: 'closes kept connections' },
        'renamed.scenario': { verdict: 'fail', reason: 'old name' },
      },
      flaky: { 'multiplexing.interleaved': { reason: 'timing' } },
    },
  },
};

describe('applyExpectations', () => {
  it('passes when every failure is expected, reporting flaky, not-run and missing ones', () => {
    const g = applyExpectations(fixtureReport(), known);
    expect(g.passed).toBe(true);
    expect(g.entries.map((e) => [e.id, e.status, e.failsRun])).toEqual([
      ['record-layer.padding.max', 'expected', false],
      ['robustness.fuzz.output-direction', 'expected', false],
      ['keep-conn.second-request', 'not-run', false],
      ['abort.mid-stdin', 'expected', false],
      ['multiplexing.interleaved', 'flaky', false],
      ['renamed.scenario', 'missing', false],
    ]);
    expect(g.counts).toEqual({ expected: 3, flaky: 1, stale: 0, unexpected: 0, 'not-run': 1, missing: 1 });
  });

  it('fails on a known failure that now passes: a stale expectation', () => {
    const g = applyExpectations(reportWith({ 'record-layer.padding.max': 'pass' }), known);
    expect(g.passed).toBe(false);
    expect(g.entries.find((e) => e.id === 'record-layer.padding.max')).toMatchObject({ status: 'stale', verdict: 'pass', expected: 'fail', failsRun: true });
  });

  it('fails on a known failure that fails differently (fail expected, error got)', () => {
    const g = applyExpectations(reportWith({ 'record-layer.padding.max': 'error' }), known);
    expect(g.entries.find((e) => e.id === 'record-layer.padding.max')).toMatchObject({ status: 'unexpected', failsRun: true });
  });

  it('never fails on a flaky scenario, whatever it did', () => {
    const g = applyExpectations(reportWith({ 'multiplexing.interleaved': 'error' }), known);
    expect(g.passed).toBe(true);
    expect(g.entries.find((e) => e.id === 'multiplexing.interleaved')).toMatchObject({ status: 'flaky', verdict: 'error', failsRun: false });
  });

  it('fails on anything else that fails or errors, and on warns only under strict', () => {
    const none: Expectations = { targets: {} };
    const plain = applyExpectations(fixtureReport(), none);
    expect(plain.passed).toBe(false);
    expect(plain.entries.map((e) => e.id)).toEqual(['record-layer.padding.max', 'robustness.fuzz.output-direction', 'abort.mid-stdin']);
    const onlyWarn = reportWith({ 'record-layer.padding.max': 'pass', 'robustness.fuzz.output-direction': 'pass', 'abort.mid-stdin': 'pass' });
    expect(applyExpectations(onlyWarn, none).passed).toBe(true);
    expect(applyExpectations(onlyWarn, none, { strict: true }).entries).toEqual([
      { id: 'record-layer.reserved.nonzero', status: 'unexpected', verdict: 'warn', failsRun: true },
    ]);
    expect(applyExpectations(reportWith({ 'record-layer.padding.max': 'pass', 'robustness.fuzz.output-direction': 'pass', 'abort.mid-stdin': 'pass' }, true), none).passed).toBe(false);
  });

  it('uses only the expectations of the report’s own target', () => {
    const other: Expectations = { targets: { 'php-fpm': known.targets['example-app']! } };
    expect(applyExpectations(fixtureReport(), other).passed).toBe(false);
    const proto: Expectations = JSON.parse('{"targets":{"__proto__":{}}}');
    expect(() => applyExpectations(fixtureReport(), proto)).not.toThrow();
  });

  it('formats the gate result', () => {
    const lines = formatGate(applyExpectations(reportWith({ 'record-layer.padding.max': 'pass' }), known));
    expect(lines[0]).toBe('✗ stale      record-layer.padding.max  pass (expected fail)  rejects padding');
    expect(lines.at(-1)).toBe('gate FAILED for example-app: 1 stale, 2 expected, 1 flaky, 1 not-run, 1 missing');
  });
});
