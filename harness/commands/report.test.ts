import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import yargs from 'yargs';
import { readReportFile, reportCommand, runCompare, runGate, runMerge, runRender, type ReportIo } from './report.ts';
import { HarnessError } from '../errors.ts';
import { writers } from '../../reports/index.ts';
import { buildReport } from '../../reports/summarize.ts';
import { fixtureCatalog, fixtureReport } from '../../reports/__fixtures__/report.ts';
import type { ComplianceReport } from '../../reports/model.ts';

let dir: string;
let out: string[];
let err: string[];
let io: ReportIo;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'fcgispec-report-'));
  out = [];
  err = [];
  io = { stdout: (t) => out.push(t), stderr: (t) => err.push(t) };
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function save(name: string, report: ComplianceReport | string): string {
  const path = join(dir, name);
  writeFileSync(path, typeof report === 'string' ? report : writers.json(report));
  return path;
}

function usage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HarnessError);
    expect((e as HarnessError).code).toBe('E_USAGE');
    expect((e as HarnessError).message).not.toContain('\n');
    return (e as HarnessError).message;
  }
  throw new Error('expected a usage error');
}

const shard = (keep: (i: number) => boolean, startedAt: string): ComplianceReport => {
  const base = fixtureReport();
  return buildReport({ ...base, startedAt, results: base.results.filter((_, i) => keep(i)), catalog: fixtureCatalog });
};

describe('reading reports', () => {
  it.each<[string, string | undefined, RegExp]>([
    ['a missing file', undefined, /^cannot read report .*missing\.json: ENOENT$/],
    ['bad JSON', '{"schemaVersion": 1', /bad\.json: not JSON: /],
    ['JSON that is not a report', '{"schemaVersion": 1, "tool": {}}', /bad\.json: not a fcgispec report: \/ is missing required property "target"/],
    ['another schema version', '{"schemaVersion": 9}', /bad\.json: report schemaVersion 9 is not supported/],
  ])('refuses %s with one line (exit 2)', (_what, content, message) => {
    const path = content === undefined ? join(dir, 'missing.json') : save('bad.json', content);
    expect(usage(() => readReportFile(path))).toMatch(message);
  });
});

describe('report merge', () => {
  it('merges shards of one target into one report, in every format asked for', () => {
    const a = save('a.json', shard((i) => i < 4, '2025-01-02T03:04:05.678Z'));
    const b = save('b.json', shard((i) => i >= 4, '2025-01-02T03:04:06.678Z'));
    const files = { json: join(dir, 'out/m.json'), html: join(dir, 'out/m.html'), md: join(dir, 'out/m.md'), junit: join(dir, 'out/m.xml') };
    expect(runMerge([a, b], files, io)).toBe(0);
    const merged = readReportFile(files.json);
    expect(merged.summary).toEqual(fixtureReport().summary);
    expect(readFileSync(files.html, 'utf8')).toContain('<details class="scenario"');
    expect(readFileSync(files.md, 'utf8')).toMatch(/^## fcgispec: example-app/);
    expect(readFileSync(files.junit, 'utf8')).toContain('<testsuites');
    expect(err.join('')).toBe('merged 2 reports of example-app: 8 scenarios\n');
  });

  it('builds a matrix of several targets, and prints Markdown without outputs', () => {
    const a = save('a.json', fixtureReport());
    const b = save('b.json', fixtureReport({ target: { ...fixtureReport().target, name: 'other' } }));
    const html = join(dir, 'matrix.html');
    expect(runMerge([a, b], { html }, io)).toBe(0);
    expect(readFileSync(html, 'utf8')).toContain('id="matrix-scenarios"');
    expect(runMerge([a, b], {}, io)).toBe(0);
    expect(out.join('')).toMatch(/^## fcgispec matrix: 2 implementations/);
  });

  it('refuses JSON or JUnit output for several targets, and shards that do not fit', () => {
    const a = save('a.json', fixtureReport());
    const b = save('b.json', fixtureReport({ target: { ...fixtureReport().target, name: 'other' } }));
    expect(usage(() => runMerge([a, b], { json: join(dir, 'x.json') }, io))).toMatch(/--json needs reports of one target; these are of 2 targets/);
    const c = save('c.json', fixtureReport({ seed: 7 }));
    expect(usage(() => runMerge([a, c], {}, io))).toMatch(/^report merge: not shards of one run: report 2 has seed 7/);
    expect(existsSync(join(dir, 'x.json'))).toBe(false);
  });

  it('reports a file it cannot write', () => {
    const a = save('a.json', fixtureReport());
    save('file', 'x');
    expect(() => runMerge([a], { md: join(dir, 'file', 'under-a-file.md') }, io)).toThrow(/^cannot write .*under-a-file\.md: (ENOTDIR|EEXIST)$/);
  });
});

describe('report compare', () => {
  const worse = (): ComplianceReport => {
    const base = fixtureReport();
    return buildReport({ ...base, results: base.results.map((r) => (r.id === 'multiplexing.interleaved' ? { ...r, verdict: 'fail' as const } : r)), catalog: fixtureCatalog });
  };

  it('exits 0 and says so when nothing regressed', () => {
    const a = save('a.json', fixtureReport());
    expect(runCompare(a, a, io)).toBe(0);
    expect(out.join('')).toBe('0 regressions, 0 better, 8 unchanged, 0 new, 0 removed\n');
  });

  it('exits 1 and lists what got worse', () => {
    expect(runCompare(save('a.json', fixtureReport()), save('b.json', worse()), io)).toBe(1);
    expect(out.join('')).toContain('worse (1):\n  pass → fail  multiplexing.interleaved');
    out = [];
    expect(runCompare(save('b.json', worse()), save('a.json', fixtureReport()), io)).toBe(0);
  });

  it('refuses a bad file with one line', () => {
    expect(usage(() => runCompare(save('a.json', fixtureReport()), save('b.json', 'nope'), io))).toMatch(/b\.json: not JSON/);
  });
});

describe('report render and gate', () => {
  it('renders the formats asked for, or Markdown to stdout', () => {
    const a = save('a.json', fixtureReport());
    const junit = join(dir, 'r.xml');
    expect(runRender(a, { junit }, io)).toBe(0);
    expect(readFileSync(junit, 'utf8')).toBe(writers.junit(readReportFile(a)));
    expect(runRender(a, {}, io)).toBe(0);
    expect(out.join('')).toBe(writers.markdown(readReportFile(a)));
  });

  it('gates a report with an expectations file', () => {
    const a = save('a.json', fixtureReport());
    const all = save(
      'expect.jsonc',
      `{ "targets": { "example-app": { "failures": {
          // known
          "record-layer.padding.max": { "verdict": "fail", "reason": "r" },
          "robustness.fuzz.output-direction": { "verdict": "fail", "reason": "r" },
          "abort.mid-stdin": { "verdict": "error", "reason": "r" } } } } }`,
    );
    expect(runGate(a, all, undefined, io)).toBe(0);
    expect(out.at(-1)).toMatch(/^gate passed for example-app: 3 expected/);
    expect(runGate(a, all, true, io)).toBe(1);
    expect(runGate(a, save('none.json', '{"targets": {}}'), undefined, io)).toBe(1);
    expect(usage(() => runGate(a, save('bad.jsonc', '{ "targets": 1 }'), undefined, io))).toMatch(/bad\.jsonc: not an expectations file: \/targets must be object/);
  });
});

describe('the yargs module', () => {
  // async, so that a usage error yargs throws synchronously becomes a rejection.
  const parse = async (args: string[]): Promise<unknown> => yargs(args).command(reportCommand).strict().exitProcess(false).fail(false).parseAsync();

  it('parses each subcommand and its options', async () => {
    const a = save('a.json', fixtureReport());
    const md = join(dir, 'r.md');
    const saved = process.exitCode;
    const printed = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      await parse(['report', 'render', a, '--md', md]);
      expect(readFileSync(md, 'utf8')).toMatch(/^## fcgispec/);
      expect(process.exitCode).toBe(0);
      await parse(['report', 'gate', a, '--expect', save('e.json', '{"targets":{}}')]);
      expect(process.exitCode).toBe(1);
      expect(printed).toHaveBeenLastCalledWith('gate FAILED for example-app: 3 unexpected\n');
      await expect(parse(['report', 'compare', a])).rejects.toThrow(/Not enough non-option arguments: got 1, need at least 2/);
      await expect(parse(['report', 'gate', a])).rejects.toThrow(/Missing required argument: expect/);
      await expect(parse(['report'])).rejects.toThrow('name a report command: merge, compare, render or gate');
    } finally {
      printed.mockRestore();
      process.exitCode = saved;
    }
  });
});
