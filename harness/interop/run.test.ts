import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseExpectations } from '../../reports/expectations.ts';
import type { ComplianceReport, ScenarioResult, Verdict } from '../../reports/model.ts';
import { parseReport } from '../../reports/schema.ts';
import { buildReport, type Catalog } from '../../reports/summarize.ts';
import { requirements, type RequirementId } from '../../spec/requirements.ts';
import { appScenarios } from '../../suites/index.ts';
import { regressionScenarios } from '../../suites/regressions/index.ts';
import { webServerScenarios } from '../../suites/web-server/index.ts';
import {
  TODO_REASON,
  expectationsFromReport,
  formatExpectationsFile,
  gateReport,
  readTargetExpectations,
  updateExpectationsFile,
} from './expectations.ts';
import {
  crashesAsFailures,
  interopAppScenarios,
  interopMatrixMarkdown,
  joinResumed,
  missedWhileDown,
  runInterop,
  selectTargets,
  withEnvironment,
  withoutPassingTranscripts,
} from './run.ts';
import { interopTargets, phpCgiSpawn } from './targets.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fcgispec-interop-test-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const REQ: RequirementId = 'FCGI-3.3-padding-discarded';
const LIVENESS: RequirementId = 'FCGI-3.5-accept-after-close';

function result(id: string, verdict: Verdict, extra: Partial<ScenarioResult> = {}): ScenarioResult {
  const group = id.split('.')[0] === 'abort' ? 'abort' : 'record-layer';
  return { id, title: id, group, requirements: [REQ], verdict, expected: '', actual: '', findings: [], observations: {}, durationMs: 1, ...extra } as ScenarioResult;
}

function report(results: readonly ScenarioResult[], name = 'peer', address = 'tcp:127.0.0.1:1', mode: 'app' | 'client' = 'app'): ComplianceReport {
  return buildReport({
    tool: { name: 'fcgispec', version: '0.0.0', suiteVersion: '0.0.0' },
    target: { name, address, mode, profile: {}, params: {} },
    startedAt: '2025-01-01T00:00:00.000Z',
    durationMs: 10,
    seed: 1,
    strict: false,
    results,
    catalog: requirements as unknown as Catalog,
  });
}

const sentLine = { atMs: 0, dir: 'sent', conn: 0, hex: '01' } as const;
const transcript = (withSent: boolean) => ({ lines: withSent ? [sentLine] : [], cap: { bytesPerConnection: 1, bytesPerLine: 1, lines: 1 }, omittedBytes: 0 });

describe('gateReport', () => {
  const rep = report([result('record-layer.a', 'pass'), result('record-layer.b', 'fail'), result('record-layer.c', 'warn')]);

  it('passes when every warn and fail is listed with its verdict', () => {
    const gate = gateReport(rep, { failures: { 'record-layer.b': { verdict: 'fail', reason: 'x' }, 'record-layer.c': { verdict: 'warn', reason: 'y' } } });
    expect(gate.passed).toBe(true);
    expect(gate.gate.counts.expected).toBe(2);
  });

  it('fails on an unlisted warn (the gate is strict), on a listed failure that now passes, and on any error', () => {
    expect(gateReport(rep, { failures: { 'record-layer.b': { verdict: 'fail', reason: 'x' } } }).passed).toBe(false);
    const stale = gateReport(rep, {
      failures: { 'record-layer.a': { verdict: 'fail', reason: 'x' }, 'record-layer.b': { verdict: 'fail', reason: 'x' }, 'record-layer.c': { verdict: 'warn', reason: 'y' } },
    });
    expect(stale.passed).toBe(false);
    expect(stale.gate.counts.stale).toBe(1);
    const withError = report([result('record-layer.e', 'error')]);
    const listed = gateReport(withError, { failures: { 'record-layer.e': { verdict: 'error', reason: 'known' } } });
    expect(listed.errors).toEqual(['record-layer.e']);
    expect(listed.passed).toBe(false);
  });

  it('fails without an expectation file when anything does not pass', () => {
    expect(gateReport(rep, undefined).passed).toBe(false);
    expect(gateReport(report([result('record-layer.a', 'pass'), result('record-layer.s', 'skip')]), undefined).passed).toBe(true);
  });
});

describe('expectation files', () => {
  it('lists every warn, fail and error of a run, keeps the reasons and flaky entries already written, and round-trips', () => {
    const rep = report([result('record-layer.a', 'pass'), result('record-layer.b', 'fail'), result('record-layer.c', 'warn'), result('record-layer.f', 'fail')]);
    const next = expectationsFromReport(rep, {
      failures: { 'record-layer.b': { verdict: 'warn', reason: 'drops the padding' }, 'record-layer.gone': { verdict: 'fail', reason: 'old' } },
      flaky: { 'record-layer.f': { reason: 'timing' } },
    });
    expect(next).toEqual({
      failures: { 'record-layer.b': { verdict: 'fail', reason: 'drops the padding' }, 'record-layer.c': { verdict: 'warn', reason: TODO_REASON } },
      flaky: { 'record-layer.f': { reason: 'timing' } },
    });
    const text = formatExpectationsFile('peer', next, ['a note']);
    expect(text).toMatch(/^\/\/ Expected verdicts of peer/);
    expect(text).toContain('// a note');
    const parsed = parseExpectations(text);
    expect(parsed.ok && parsed.expectations).toEqual({ targets: { peer: next } });
  });

  it('rewrites a file from a run (--update-expectations), keeping the reasons', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'peer.jsonc'), formatExpectationsFile('peer', { failures: { 'record-layer.b': { verdict: 'fail', reason: 'what it does' } } }));
    const rep = report([result('record-layer.b', 'fail'), result('record-layer.c', 'warn')]);
    expect(updateExpectationsFile(rep, dir)).toEqual({ path: join(dir, 'peer.jsonc'), todo: 1 });
    expect(readTargetExpectations('peer', dir)).toEqual({
      failures: { 'record-layer.b': { verdict: 'fail', reason: 'what it does' }, 'record-layer.c': { verdict: 'warn', reason: TODO_REASON } },
    });
    expect(readTargetExpectations('absent', dir)).toBeUndefined();
    writeFileSync(join(dir, 'bad.jsonc'), '{ "targets": {} }');
    expect(() => readTargetExpectations('bad', dir)).toThrow(/no entry for target "bad"/);
  });

  it('has a file for every real peer the interop runs, each listing only scenarios that exist, with a reason', () => {
    const ids = new Set<string>([...appScenarios, ...regressionScenarios, ...webServerScenarios].map((s) => s.id));
    for (const t of interopTargets.filter((x) => x.peer !== undefined)) {
      const mine = readTargetExpectations(t.name);
      expect(mine, `harness/expectations/${t.name}.jsonc`).toBeDefined();
      for (const [id, f] of Object.entries(mine?.failures ?? {})) {
        expect(ids.has(id), `${t.name}: ${id} is not a scenario`).toBe(true);
        expect(f.reason.length, `${t.name}: ${id}`).toBeGreaterThan(10);
        expect(f.verdict, `${t.name}: ${id}`).not.toBe('error');
      }
    }
  });
});

describe('resuming after a crash', () => {
  const culprit = result('record-layer.kill', 'error', {
    actual: 'E_CONNECT: cannot connect',
    transcript: transcript(true),
    findings: [{ requirement: LIVENESS, verdict: 'fail', expected: 'serves after', actual: 'target stopped serving' }],
  });
  const already = result('record-layer.late', 'error', { actual: 'E_CONNECT: cannot connect', transcript: transcript(false), findings: [{ requirement: LIVENESS, verdict: 'fail', expected: 'x', actual: 'y' }] });
  const down = result('record-layer.next', 'error', { actual: 'E_TARGET_DOWN: target down since record-layer.kill' });

  it('makes a crash that stopped a scenario a failure, not a harness error', () => {
    const fixed = crashesAsFailures(report([result('record-layer.a', 'pass'), culprit, already, down]));
    expect(fixed.results.map((r) => r.verdict)).toEqual(['pass', 'fail', 'error', 'error']);
    expect(fixed.results[1]!.actual).toMatch(/^target stopped serving \(the scenario could not finish: E_CONNECT/);
    expect(fixed.summary.fail).toBe(1);
    const untouched = report([result('record-layer.a', 'pass')]);
    expect(crashesAsFailures(untouched)).toBe(untouched);
  });

  it('runs again what the target missed while down, and joins the runs as one report of the first address', () => {
    const first = report([result('record-layer.a', 'pass'), culprit, already, down], 'peer', 'tcp:127.0.0.1:1');
    expect(missedWhileDown(crashesAsFailures(first)).map((r) => r.id)).toEqual(['record-layer.late', 'record-layer.next']);
    const second = report([result('record-layer.late', 'pass'), result('record-layer.next', 'fail')], 'peer', 'tcp:127.0.0.1:2');
    const joined = joinResumed(crashesAsFailures(first), second);
    expect(joined.target.address).toBe('tcp:127.0.0.1:1');
    expect(joined.results.map((r) => [r.id, r.verdict])).toEqual([
      ['record-layer.a', 'pass'],
      ['record-layer.kill', 'fail'],
      ['record-layer.late', 'pass'],
      ['record-layer.next', 'fail'],
    ]);
  });
});

describe('stored reports and helpers', () => {
  it('keeps transcripts only where a scenario did not pass', () => {
    const rep = report([result('record-layer.a', 'pass', { transcript: transcript(true) }), result('record-layer.b', 'fail', { transcript: transcript(true) })]);
    const small = withoutPassingTranscripts(rep);
    expect(small.results.map((r) => r.transcript !== undefined)).toEqual([false, true]);
  });

  it('runs work with an environment of its own and puts the old one back', async () => {
    const before = { ...process.env };
    const seen = await withEnvironment({ ONLY: 'this' }, async () => ({ ...process.env }));
    expect(seen).toEqual({ ONLY: 'this' });
    expect(process.env).toEqual(before);
    await expect(withEnvironment({}, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(process.env).toEqual(before);
  });

  it('gives php-cgi its spawn command and environment, and refuses unknown target names', () => {
    const spawn = phpCgiSpawn();
    expect(spawn.spawn).toBe('/usr/bin/php-cgi8.2 -n -d post_max_size=0');
    expect(spawn.env).toMatchObject({ PHP_FCGI_CHILDREN: '2', PHP_FCGI_MAX_REQUESTS: '500' });
    expect(selectTargets([]).map((t) => t.name)[0]).toBe('reference');
    expect(selectTargets(['go-fcgi', 'php-fpm']).map((t) => t.name)).toEqual(['php-fpm', 'go-fcgi']);
    expect(() => selectTargets(['nope'])).toThrow(/unknown interop target "nope"/);
  });

  it('renders the matrix by group: a row per group, a column per implementation, counts by verdict', () => {
    const a = report([result('record-layer.a', 'pass'), result('record-layer.b', 'fail'), result('abort.c', 'skip')], 'one');
    const b = report([result('record-layer.a', 'pass'), result('record-layer.b', 'pass'), result('abort.c', 'warn')], 'two');
    const md = interopMatrixMarkdown([a, b]);
    expect(md).toContain('| group | one | two |');
    expect(md).toContain('| record-layer | ❌ 1 ✅ 1 | ✅ 2 |');
    expect(md).toContain('| abort | ⏭️ 1 | ⚠️ 1 |');
    expect(md).toContain('| **all** | ❌ 1 ✅ 1 ⏭️ 1 | ⚠️ 1 ✅ 2 |');
    expect(md).toMatch(/^## Applications$/m);
    expect(md).toMatch(/^## Application scenarios$/m);
    expect(md).not.toMatch(/## Web servers/);
  });

  it('puts web servers in a table of their own, a row per kind of scenario (request, response, …)', () => {
    const app = report([result('record-layer.a', 'pass')], 'app');
    const web = (id: string, verdict: Verdict): ScenarioResult => ({ ...result(id, verdict), group: 'web-server' }) as ScenarioResult;
    const server = report([web('request.get', 'pass'), web('request.post', 'warn'), web('response.status', 'fail')], 'nginx', 'http://127.0.0.1:1/', 'client');
    const md = interopMatrixMarkdown([app, server]);
    expect(md).toMatch(/## Applications\n\n\| group \| app \|/);
    expect(md).toMatch(/## Web servers\n\n\| group \| nginx \|\n\|---\|:---\|\n\| request \| ⚠️ 1 ✅ 1 \|\n\| response \| ❌ 1 \|/);
    expect(md).toMatch(/^## Web-server scenarios$/m);
  });
});

describe('interopAppScenarios', () => {
  it('runs the application suite and every fuzz regression replay, each once', () => {
    const ids = interopAppScenarios().map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const s of [...appScenarios, ...regressionScenarios]) expect(ids).toContain(s.id);
    expect(ids.slice(0, appScenarios.length)).toEqual(appScenarios.map((s) => s.id));
  });
});

describe('runInterop', () => {
  it('runs the reference, writes its report and the matrix, gates it, and writes its expectations on request', async () => {
    const out = tempDir();
    const expectationsDir = tempDir();
    const scenarios = appScenarios.filter((s) => ['record-layer.padding.every-length', 'begin-request.responder', 'management.get-values.all'].includes(s.id));
    let text = '';
    const result1 = await runInterop({ only: ['reference'], out, expectationsDir, scenarios, stdout: { write: (t: string) => (text += t) } });
    expect(result1.passed).toBe(true);
    expect(text).toMatch(/^reference +3 scenarios in .*: 3 pass; gate passed \(0 expected\)\ninterop: 1 target\(s\) in .*every gate passed/);
    expect(readdirSync(out).sort()).toEqual(['matrix.html', 'matrix.md', 'reference.json']);
    const stored = parseReport(readFileSync(join(out, 'reference.json'), 'utf8'));
    expect(stored.ok && stored.report.results.map((r) => r.verdict)).toEqual(['pass', 'pass', 'pass']);
    expect(stored.ok && stored.report.seed).toBe(20_250_101);
    expect(readFileSync(join(out, 'matrix.md'), 'utf8')).toContain('| group | reference |');

    const result2 = await runInterop({ only: ['reference'], out, expectationsDir, scenarios, updateExpectations: true, matrix: false, stdout: { write: () => true } });
    expect(result2.passed).toBe(true);
    expect(readTargetExpectations('reference', expectationsDir)).toEqual({ failures: {} });
  }, 30_000);
});
