// The client-suite runner: verdicts of scenarios that finish, skip, crash or hang; validator findings filed once
// per run; a web server that stops serving; the sanity request's diagnoses; the transcript caps.
import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '../../reference/client/index.ts';
import type { TranscriptLine } from '../../reports/model.ts';
import { defineWebServerScenario, type WebServerScenario } from '../../suites/web-server/define.ts';
import { clientCatalog } from '../commands/client.ts';
import { startBackend, type Backend } from './backend.ts';
import { startDouble, type DoubleFault, type RunningDouble } from './double.ts';
import { TRANSCRIPT_LINES, runClientScenarios, sanityRequest, scenarioTranscript } from './runner.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setUp(faults: readonly DoubleFault[] = []): Promise<{ backend: Backend; double: RunningDouble; trigger: URL }> {
  const backend = await startBackend({ listen: 'tcp:127.0.0.1:0' });
  cleanups.push(() => backend.close());
  const double = await startDouble({ backend: backend.address, faults, timeoutMs: 1000 });
  cleanups.push(() => double.close());
  return { backend, double, trigger: new URL(double.url) };
}

const plain = (id: `${string}.${string}`): WebServerScenario =>
  defineWebServerScenario({
    id,
    title: 'one GET',
    requirements: ['FCGI-6.2-responder-params'],
    async run(ctx) {
      const o = await ctx.http();
      ctx.check.that(o.kind === 'response' && o.status === 200, 'FCGI-6.2-responder-params', 'HTTP 200', o.kind);
    },
  });

describe('runClientScenarios', () => {
  it('classifies a pass, a skip, a crash and a scenario the watchdog stops', async () => {
    const { backend, trigger } = await setUp();
    const scenarios: WebServerScenario[] = [
      plain('t.pass'),
      defineWebServerScenario({ id: 't.skip', title: 'skips', requirements: ['FCGI-6.2-responder-params'], run: async (ctx) => ctx.skip('not today') }),
      defineWebServerScenario({ id: 't.crash', title: 'throws', requirements: ['FCGI-6.2-responder-params'], run: async () => { throw new Error('boom'); } }),
      defineWebServerScenario({ id: 't.hang', title: 'hangs', requirements: ['FCGI-6.2-responder-params'], timeoutMs: 200, run: () => new Promise<void>(() => {}) }),
      plain('t.after'),
    ];
    const results = await runClientScenarios({ scenarios, backend, trigger, catalog: clientCatalog, strict: false, seed: 1 });
    expect(results.map((r) => [r.id, r.verdict])).toEqual([
      ['t.pass', 'pass'],
      ['t.skip', 'skip'],
      ['t.crash', 'error'],
      ['t.hang', 'error'],
      ['t.after', 'pass'],
    ]);
    expect(results[1]!.actual).toBe('not today');
    expect(results[2]!.actual).toBe('E_SCENARIO_CRASH: boom');
    expect(results[3]!.actual).toMatch(/^E_TIMEOUT: no verdict within 200 ms/);
    expect(results.every((r) => r.group === 'web-server')).toBe(true);
  });

  it('files a deviation of the records where it first shows, and only counts it in later scenarios', async () => {
    const { backend, trigger } = await setUp(['reserved-nonzero']);
    const results = await runClientScenarios({ scenarios: [plain('t.one'), plain('t.two')], backend, trigger, catalog: clientCatalog, strict: false, seed: 1 });
    expect(results.map((r) => r.verdict)).toEqual(['warn', 'pass']);
    expect(results[0]!.findings).toContainEqual({
      requirement: 'FCGI-3.3-reserved-zero',
      verdict: 'warn',
      expected: 'header reserved byte 0',
      actual: expect.stringMatching(/^0xa5 on FCGI_BEGIN_REQUEST \(backend connection #\d+, request 1, byte \d+, at [\d.]+ ms\)$/),
    });
    expect(results[1]!.findings).toEqual([]);
    expect(results[1]!.transcript!.lines.some((l) => /already reported earlier in the run/.test(l.text ?? ''))).toBe(true);
  });

  it('turns the rest of the run into errors when the web server stops serving after a failed scenario', async () => {
    const { backend, double, trigger } = await setUp();
    const killer = defineWebServerScenario({
      id: 't.kill',
      title: 'the web server goes away',
      requirements: ['FCGI-6.2-responder-params'],
      async run(ctx) {
        await double.close();
        const o = await ctx.http();
        ctx.check.that(o.kind === 'response', 'FCGI-6.2-responder-params', 'a response', o.kind);
      },
    });
    const results = await runClientScenarios({ scenarios: [killer, plain('t.next')], backend, trigger, catalog: clientCatalog, strict: false, seed: 1, timeoutScale: 0.2 });
    expect(results.map((r) => r.verdict)).toEqual(['fail', 'error']);
    expect(results[0]!.actual).toMatch(/the web server stopped serving after t\.kill/);
    expect(results[1]!.actual).toMatch(/^E_TARGET_DOWN: the web server stopped serving after t\.kill/);
  });
});

describe('sanityRequest', () => {
  it('passes through a working web server', async () => {
    const { backend, trigger } = await setUp();
    expect(await sanityRequest(backend, trigger, 2000)).toMatchObject({ ok: true });
  });

  it('tells a refused trigger, a server that does not pass the request on, and one that drops the path tag apart', async () => {
    const backend = await startBackend({ listen: 'tcp:127.0.0.1:0' });
    cleanups.push(() => backend.close());
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise((r) => closed.close(r));
    expect(await sanityRequest(backend, new URL(`http://127.0.0.1:${port}/`), 1000)).toMatchObject({ ok: false, stage: 'http' });

    const client = new Client(backend.address, { multiplex: false });
    cleanups.push(() => client.close());
    let forward = false;
    const server = createServer((req, res) => {
      if (!forward) return void res.end('not passed on');
      void client.request({ params: { REQUEST_METHOD: 'GET', REQUEST_URI: '/index.php', SCRIPT_NAME: '/index.php' } }).then((r) => res.end(r.cgi?.body));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const url = new URL(`http://127.0.0.1:${(server.address() as { port: number }).port}/`);
    expect(await sanityRequest(backend, url, 1000)).toMatchObject({ ok: false, stage: 'backend', reason: expect.stringMatching(/no FastCGI request reached the backend/) });
    forward = true;
    expect(await sanityRequest(backend, url, 1000)).toMatchObject({ ok: false, stage: 'tag', reason: expect.stringMatching(/REQUEST_URI="\/index\.php"/) });
  });
});

describe('scenarioTranscript', () => {
  it('times lines from the scenario start, numbers connections from 0 and keeps the first and last lines', () => {
    const lines: TranscriptLine[] = Array.from({ length: 400 }, (_, i) => ({ atMs: 1000 + i, dir: 'received', conn: 7, byteLength: 100, hex: '00'.repeat(8) }));
    const t = scenarioTranscript(lines, [{ atMs: 999, text: 'HTTP GET /x' }], 990);
    expect(t.lines).toHaveLength(TRANSCRIPT_LINES);
    expect(t.lines[0]).toEqual({ atMs: 9, dir: 'note', conn: 0, text: 'HTTP GET /x' });
    expect(t.lines[1]).toMatchObject({ atMs: 10, dir: 'note', conn: 0, text: 'conn 0 is backend connection #7, opened before this scenario' });
    expect(t.lines.some((l) => /lines left out \(cap 300 lines\)/.test(l.text ?? ''))).toBe(true);
    expect(t.lines.at(-1)).toMatchObject({ atMs: 409, conn: 0 });
    expect(t.omittedBytes).toBeGreaterThan(0);
  });
});
