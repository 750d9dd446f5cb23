// The web-server suite against the web-server double: every scenario passes (or records an observation as
// `info`, as `response.stall` always does) against the clean double.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScenarioResult } from '../../reports/model.ts';
import { webServerScenarios } from '../../suites/web-server/index.ts';
import { R } from '../../suites/web-server/kit.ts';
import { clientCatalog } from '../commands/client.ts';
import { startBackend, type Backend } from './backend.ts';
import { startDouble, type RunningDouble } from './double.ts';
import { runClientScenarios, sanityRequest } from './runner.ts';

let backend: Backend;
let double: RunningDouble;
let results: ScenarioResult[];

beforeAll(async () => {
  backend = await startBackend({ listen: 'tcp:127.0.0.1:0' });
  double = await startDouble({ backend: backend.address, timeoutMs: 1000 });
  const trigger = new URL(double.url);
  expect(await sanityRequest(backend, trigger, 3000)).toMatchObject({ ok: true });
  results = await runClientScenarios({ scenarios: webServerScenarios, backend, trigger, catalog: clientCatalog, strict: true, seed: 7, timeoutScale: 0.5 });
}, 60_000);

afterAll(async () => {
  await double?.close();
  await backend?.close();
});

describe('the web-server suite against the clean double', () => {
  it('runs every scenario once, in suite order', () => {
    expect(results.map((r) => r.id)).toEqual(webServerScenarios.map((s) => s.id));
  });

  it('passes every scenario, strict; only the stall is an observation (info)', () => {
    const notPassed = results.filter((r) => r.verdict !== 'pass').map((r) => `${r.id}: ${r.verdict} ${r.expected} / ${r.actual}`);
    expect(notPassed).toEqual([expect.stringMatching(/^response\.stall: info /)]);
  });

  it('reports the time the double took to give up on a stalled application', () => {
    const stall = results.find((r) => r.id === 'response.stall')!;
    expect(stall.findings).toEqual([expect.objectContaining({ requirement: R.stallTimeout, verdict: 'info', actual: expect.stringMatching(/^gave up after \d+(\.\d+)? ms: HTTP 504/) })]);
    expect(stall.observations['gave up after ms']).toBeGreaterThanOrEqual(900);
  });

  it('records what the double does where the spec leaves it open', () => {
    const obs = (id: string): ScenarioResult['observations'] => results.find((r) => r.id === id)!.observations;
    expect(obs('connection.keep-conn')).toMatchObject({ 'FCGI_KEEP_CONN set': '3 of 3', 'backend connections for 3 requests': 1 });
    expect(obs('connection.get-values')['FCGI_GET_VALUES queries so far']).toBeGreaterThan(0);
    expect(String(obs('connection.abort-on-client-close')['aborted with'])).toMatch(/^FCGI_ABORT_REQUEST/);
  });

  it('checks each answer of two requests multiplexed on one connection and finished out of order', async () => {
    // A fresh pool: the double's client then has one connection and multiplexes the second request on it.
    const fresh = await startBackend({ listen: 'tcp:127.0.0.1:0' });
    const pooled = await startDouble({ backend: fresh.address, timeoutMs: 1000 });
    try {
      const [result] = await runClientScenarios({ scenarios: webServerScenarios.filter((s) => s.id === 'connection.multiplex'), backend: fresh, trigger: new URL(pooled.url), catalog: clientCatalog, strict: true, seed: 1 });
      expect(result).toMatchObject({ verdict: 'pass', observations: { multiplexed: true } });
      const sent = result!.transcript!.lines.filter((l) => l.dir === 'sent').flatMap((l) => l.records ?? []);
      expect(sent.filter((r) => r.typeName === 'FCGI_END_REQUEST').map((r) => r.requestId)).toEqual([2, 1]);
    } finally {
      await pooled.close();
      await fresh.close();
    }
  }, 20_000);

  it('keeps a transcript for every scenario, showing the records the double sent', () => {
    const simple = results.find((r) => r.id === 'request.get.simple')!;
    const received = simple.transcript!.lines.filter((l) => l.dir === 'received').flatMap((l) => l.records ?? []).map((r) => r.typeName);
    expect(received).toEqual(['FCGI_BEGIN_REQUEST', 'FCGI_PARAMS', 'FCGI_PARAMS', 'FCGI_STDIN']);
    expect(simple.transcript!.lines.some((l) => l.dir === 'note' && /^HTTP GET \/fcgispec\/request\.get\.simple\/1$/.test(l.text ?? ''))).toBe(true);
  });
});
