import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startServe, type ServeHandle } from '../../commands/serve.ts';
import { HarnessError } from '../../errors.ts';
import { validateReport } from '../../../reports/schema.ts';
import { writers } from '../../../reports/index.ts';
import { runLoad, type LoadResult } from './runner.ts';
import { engineNames } from './engine.ts';
import { benchReport, formatLoadResult } from './report.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serve(options: { faults?: string[]; multiplex?: boolean } = {}): Promise<ServeHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'fcgispec-bench-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const handle = await startServe({ listen: `unix:${dir}/app.sock`, log: false, ...(options.faults ? { faults: options.faults } : {}), ...(options.multiplex === undefined ? {} : { multiplex: options.multiplex }) });
  cleanups.push(() => handle.close(500));
  return handle;
}

const echo: [string, string][] = [
  ['REQUEST_METHOD', 'GET'],
  ['PROBE_ACTION', 'echo-param'],
  ['PROBE_NAME', 'BODY'],
  ['BODY', 'hello under load\n'],
];

function errorTotal(r: LoadResult): number {
  return Object.values(r.errors).reduce((a, b) => a + b, 0);
}

function expectConsistent(r: LoadResult): void {
  expect(r.requests).toBe(r.ok + errorTotal(r));
  const l = r.latencyMs;
  const chain = [l.min, l.p50, l.p90, l.p99, l['p99.9'], l.max];
  expect(chain).toEqual([...chain].sort((a, b) => a - b));
  expect(r.histogram.count).toBe(r.requests);
}

describe('runLoad', () => {
  it.each(engineNames)('%s engine: counts every request once: requests = ok + errors, monotone percentiles, bytes both ways', async (engine) => {
    const app = await serve();
    const r = await runLoad({ target: app.address, params: echo, connections: 3, perConnection: 1, requests: 300, probe: true, engine });
    expectConsistent(r);
    expect(r.requests).toBe(300);
    expect(r.ok).toBe(300);
    expect(r.protocolStatus).toEqual({ FCGI_REQUEST_COMPLETE: 300 });
    expect(r.cgiStatus).toEqual({ '200': 300 });
    expect(r.violations).toEqual({});
    expect(r.samples).toEqual([]);
    expect(r.bytesSent).toBeGreaterThan(300 * 16); // at least BEGIN_REQUEST and the empty streams of each
    expect(r.bytesReceived).toBeGreaterThan(300 * 'hello under load\n'.length);
    expect(r.requestsPerSecond).toBeGreaterThan(0);
    expect(r.connections.opened).toBe(3);
    expect(r.capabilities.mpxsConns).toBe(true);
  });

  it.each(engineNames)('%s engine: multiplexes with -m when the target claims FCGI_MPXS_CONNS, and opens a connection per request without keep-conn', async (engine) => {
    const app = await serve();
    const mpx = await runLoad({ target: app.address, params: echo, connections: 2, perConnection: 4, requests: 200, probe: true, engine });
    expectConsistent(mpx);
    expect([mpx.ok, mpx.violationCount, mpx.connections.opened]).toEqual([200, 0, 2]);
    const fresh = await runLoad({ target: app.address, params: echo, connections: 2, requests: 40, keepConn: false, engine });
    expectConsistent(fresh);
    expect([fresh.ok, fresh.violationCount, fresh.connections.opened]).toEqual([40, 0, 40]);
  });

  it('measures its own CPU time over the measured window, and calls the hooks at its start and end', async () => {
    const app = await serve();
    const calls: string[] = [];
    const r = await runLoad({
      target: app.address,
      params: echo,
      connections: 2,
      requests: 200,
      warmupMs: 50,
      onMeasureStart: () => calls.push('start'),
      onMeasureEnd: () => calls.push('end'),
    });
    expect(calls).toEqual(['start', 'end']);
    expect(r.clientCpu.microsPerRequest).toBeGreaterThan(0);
    expect(r.clientCpu.coreShare).toBeGreaterThan(0);
    expect(formatLoadResult(r).join('\n')).toMatch(/^client +.* of fcgispec CPU per request, \d+ % of one core/m);
    // Named by its address, as `fcgispec app` names a target, so that `report merge` joins the two.
    expect(benchReport(r, { version: '0' }, new Date()).target.name).toBe(r.target);
  });

  it('follows large bodies both ways: records cut across writes and reads, probe answers checked in full', async () => {
    const app = await serve();
    const stdin = Buffer.alloc(200_000, 'stdin body; ');
    const r = await runLoad({ target: app.address, params: [['REQUEST_METHOD', 'POST'], ['PROBE_ACTION', 'echo-stdin'], ['CONTENT_LENGTH', String(stdin.length)]], stdin, connections: 2, perConnection: 2, requests: 20, probe: true });
    expectConsistent(r);
    expect([r.ok, r.violationCount]).toEqual([20, 0]);
    expect(r.bytesSent).toBeGreaterThan(20 * stdin.length);
    expect(r.bytesReceived).toBeGreaterThan(20 * stdin.length);
  });

  it.each(engineNames)('%s engine: counts the violations a faulty responder causes (duplicate FCGI_END_REQUEST every 50th request), with a sample transcript', async (engine) => {
    const app = await serve({ faults: ['duplicate-end-request@50'] });
    const r = await runLoad({ target: app.address, params: echo, connections: 2, requests: 400, engine });
    expectConsistent(r);
    expect(r.requests).toBe(400);
    if (engine === 'wire') {
      // Exactly the 8 duplicates, and no request takes a duplicate for its own FCGI_END_REQUEST.
      expect(r.violations).toEqual({ 'FCGI-3.3-no-records-after-end': 8 });
      expect([r.ok, r.cgiStatus]).toEqual([400, { '200': 400 }]);
    }
    expect(r.violationCount).toBeGreaterThanOrEqual(1);
    expect(r.violationCount).toBeLessThanOrEqual(16);
    expect(r.violations['FCGI-3.3-no-records-after-end']).toBeGreaterThanOrEqual(1);
    const sample = r.samples.find((s) => s.requirement === 'FCGI-3.3-no-records-after-end');
    expect(sample?.actual).toMatch(/FCGI_END_REQUEST for request \d+ after its FCGI_END_REQUEST/);
    const text = formatLoadResult(r).join('\n');
    expect(text).toContain('sample: FCGI-3.3-no-records-after-end');
    // The transcript shows the request and both FCGI_END_REQUEST records.
    const ends = text.split('\n').filter((l) => l.includes('FCGI_END_REQUEST id='));
    expect(ends.length).toBeGreaterThanOrEqual(2);

    const report = benchReport(r, { version: '0.0.0-test' }, new Date('2025-01-01T00:00:00Z'), 'faulty');
    expect(validateReport(JSON.parse(writers.json(report)))).toEqual([]);
    expect(report.results[0]?.verdict).toBe('fail');
    expect(report.results[0]?.transcript?.lines.length).toBeGreaterThan(2);
    expect(report.bench?.violations).toEqual(r.violations);
    expect(writers.markdown(report)).toContain('FCGI-3.3-no-records-after-end');
    expect(writers.html(report)).toContain('id="bench"');
  });

  it('checks probe answers with probe on: a corrupted body is a violation of every request', async () => {
    const app = await serve({ faults: ['echo-wrong'] });
    const r = await runLoad({ target: app.address, params: echo, connections: 2, requests: 50, probe: true });
    expectConsistent(r);
    expect(r.ok).toBe(50);
    expect(r.violations).toEqual({ 'FCGI-3.3-stream-value-app': 50 });
    expect(r.samples[0]?.actual).toMatch(/body differs/);
  });

  it.each(engineNames)('%s engine: a request that never ends is a timeout, and the run goes on', async (engine) => {
    const app = await serve({ faults: ['no-end-request@5'] });
    const r = await runLoad({ target: app.address, params: echo, connections: 2, requests: 30, timeoutMs: 200, engine });
    expectConsistent(r);
    expect(r.requests).toBe(30);
    expect(r.errors['E_TIMEOUT']).toBeGreaterThanOrEqual(1);
    expect(r.ok).toBeGreaterThanOrEqual(20);
  });

  it('keeps a fixed rate, timing each request from its due time', async () => {
    const app = await serve();
    const r = await runLoad({ target: app.address, params: echo, connections: 2, requests: 60, rate: 600 });
    expectConsistent(r);
    expect(r.requests).toBe(60);
    expect(r.late).toBeGreaterThanOrEqual(0);
    // 60 requests due 1/600 s apart take at least ~98 ms whatever the target does.
    expect(r.durationMs).toBeGreaterThanOrEqual(95);
  });

  it.each([
    [{ connections: 0 }, /^-c must be a positive integer, got 0$/],
    [{ perConnection: 1.5 }, /^-m must be a positive integer/],
    [{ requests: 10, durationMs: 100 }, /^give -n or -D, not both$/],
    [{ rate: 0 }, /^--rate must be a positive number of requests per second, got 0$/],
    [{ rate: Number.NaN }, /^--rate must be a positive number/],
    [{ warmupMs: -1 }, /^--warmup must be a non-negative number/],
    [{ perConnection: 2, keepConn: false }, /^-m 2 needs --keep-conn/],
    [{ target: 'fd:0' }, /^cannot load fd:0/],
    [{ target: 'nonsense:x' }, /nonsense:x/],
  ] as const)('refuses bad settings with E_USAGE before connecting: %o', async (settings, message) => {
    const err = await runLoad({ target: 'unix:/nonexistent/app.sock', ...settings }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HarnessError);
    expect((err as HarnessError).code).toBe('E_USAGE');
    expect((err as HarnessError).message).toMatch(message);
  });

  it('refuses -m above 1 against a target that does not multiplex, before sending any request', async () => {
    const app = await serve({ multiplex: false });
    const err = await runLoad({ target: app.address, params: echo, connections: 1, perConnection: 4, requests: 10 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HarnessError);
    expect((err as HarnessError).code).toBe('E_USAGE');
    expect((err as HarnessError).message).toMatch(/^-m 4 multiplexes requests, but unix:.* does not claim FCGI_MPXS_CONNS=1: it answered FCGI_MPXS_CONNS=0$/);
  });
});
