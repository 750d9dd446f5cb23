import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { parseReport } from '../../reports/schema.ts';
import { HarnessError } from '../errors.ts';
import { startServe } from './serve.ts';
import { loadOptionsOf, parseDuration, runBench, type BenchIo } from './bench.ts';

const root = new URL('../..', import.meta.url).pathname;
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fcgispec-bench-cmd-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function serve(multiplex = true, faults: string[] = []): Promise<string> {
  const handle = await startServe({ listen: `unix:${tempDir()}/app.sock`, log: false, multiplex, faults });
  cleanups.push(() => handle.close(500));
  return handle.address;
}

function captured(): { io: BenchIo; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return { io: { stdout: (t) => void (out += t), stderr: (t) => void (err += t), stderrIsTty: false }, out: () => out, err: () => err };
}

describe('fcgispec bench', () => {
  it('reads durations as h2load and wrk write them', () => {
    expect([parseDuration('10s', '-D'), parseDuration('250ms', '-D'), parseDuration('1.5m', '-D'), parseDuration('2', '-D')]).toEqual([10_000, 250, 90_000, 2000]);
    expect(() => parseDuration('soon', '-D')).toThrow(HarnessError);
  });

  it('builds the request: CGI defaults, PROBE_ACTION, CONTENT_LENGTH from --stdin, --param last and overriding', () => {
    const file = join(tempDir(), 'body');
    writeFileSync(file, 'abc');
    const o = loadOptionsOf({ target: 'unix:/x', params: ['REQUEST_METHOD=POST', 'X=1'], probeAction: 'echo-stdin', stdin: file });
    const names = o.params!.map(([n]) => n);
    expect(names).toContain('SERVER_PROTOCOL');
    expect(names).not.toContain(undefined);
    expect(o.params!.filter(([n]) => n === 'REQUEST_METHOD')).toEqual([['REQUEST_METHOD', 'POST']]);
    expect(o.params).toContainEqual(['PROBE_ACTION', 'echo-stdin']);
    expect(o.params).toContainEqual(['CONTENT_LENGTH', '3']);
    expect(o.params!.at(-1)).toEqual(['X', '1']);
    expect(Buffer.from(o.stdin!).toString()).toBe('abc');
    expect(loadOptionsOf({ target: 'unix:/x', cgiDefaults: false }).params).toEqual([]);
    expect(() => loadOptionsOf({ target: 'unix:/x', probeAction: 'dance' })).toThrow(/--probe-action "dance"/);
    expect(() => loadOptionsOf({ target: 'unix:/x', params: ['novalue'] })).toThrow(/NAME=VALUE/);
  });

  it('prints the figures, writes a valid JSON report with the bench section, exits 0 when clean', async () => {
    const target = await serve();
    const json = join(tempDir(), 'out', 'bench.json');
    const c = captured();
    const { code, result } = await runBench({ target, connections: 2, requests: 100, probe: true, probeAction: 'echo-param', params: ['PROBE_NAME=B', 'B=hi'], json }, c.io);
    expect(code).toBe(0);
    expect(result.requests).toBe(100);
    expect(c.out()).toMatch(/^requests +100 in .*: 100 ok, 0 errors$/m);
    expect(c.out()).toMatch(/^latency +p50 .* p90 .* p99 .* p99\.9 .* max /m);
    expect(c.out()).toMatch(/^conformance +no violations$/m);
    const parsed = parseReport(readFileSync(json, 'utf8'));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.report.bench?.requests).toBe(100);
    // Named as `fcgispec app` names the target, so `report merge` takes both for one target's shards.
    expect(parsed.report.target.name).toBe(target);
    expect(c.out()).toMatch(/^client +.* of fcgispec CPU per request/m);
    expect(parsed.report.results.map((r) => [r.id, r.verdict])).toEqual([['bench.conformance-under-load', 'pass']]);
  });

  it('exits 1 when the target breaks the protocol under load', async () => {
    const target = await serve(true, ['no-stdout-end@10']);
    const c = captured();
    const { code, result } = await runBench({ target, connections: 2, requests: 100 }, c.io);
    expect(code).toBe(1);
    expect(result.violationCount).toBeGreaterThanOrEqual(10);
    expect(c.out()).toMatch(/^sample: FCGI-3\.3-stream-terminator|^sample: FCGI-6\.1-stdout-sent/m);
  });

  it('shows a live progress line on stderr when asked (as on a TTY), and clears it before the figures', async () => {
    const target = await serve();
    const c = captured();
    // Long enough for the first tick (every second), with room for a late timer on a busy machine.
    await runBench({ target, connections: 2, duration: '1500ms', warmup: '100ms', progress: true }, c.io);
    expect(c.err()).toMatch(/^\r\x1b\[K.*: \d+ requests, \d+ req\/s, p99 .*, 0 errors, 0 violations/);
    expect(c.err().endsWith('\r\x1b[K')).toBe(true);
    expect(c.out()).toMatch(/^requests +\d+ in /m);
  });

  it('names the target in the report as --name says', async () => {
    const target = await serve();
    const json = join(tempDir(), 'named.json');
    await runBench({ target, requests: 10, json, name: 'reference' }, captured().io);
    const parsed = parseReport(readFileSync(json, 'utf8'));
    expect(parsed.ok && parsed.report.target.name).toBe('reference');
  });

  it('bad settings through the fcgispec CLI: exit 2, one line on stderr, nothing on stdout', async () => {
    const run = promisify(execFile)(process.execPath, ['harness/bin/fcgispec.js', 'bench', 'unix:/nonexistent/app.sock', '-c', '0'], { cwd: root, timeout: 60_000 });
    const result = await run.then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );
    expect(result).toEqual({ code: 2, stdout: '', stderr: 'fcgispec: -c must be a positive integer, got 0\n' });
  });

  it('-m 4 against a target that does not multiplex: exit 2, one line on stderr', async () => {
    const target = await serve(false);
    const run = promisify(execFile)(process.execPath, ['--import', 'tsx', 'harness/commands/bench.ts', target, '-m', '4', '-n', '10'], { cwd: root, timeout: 60_000 });
    const result = await run.then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^fcgispec bench: -m 4 multiplexes requests, but unix:.* does not claim FCGI_MPXS_CONNS=1: it answered FCGI_MPXS_CONNS=0\n$/);
  });
});
