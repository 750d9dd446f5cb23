/**
 * Checks for any web-server peer (other than nginx), as vitest tests: the server is put in front of the
 * reference responder running the probe app (`startServe`), and probe requests made over HTTP must come back
 * as the probe contract's model says. The probe action is chosen per path through the launcher's `routes`.
 */
import { expect, it } from 'vitest';
import { expectedProbeResponse, type ProbeExpectation } from '../../../reference/probe/model.ts';
import { patternBytes } from '../../../suites/kit.ts';
import { startServe } from '../../commands/serve.ts';
import { requirePeer } from '../availability.ts';
import type { RunningWebServer } from '../peer.ts';
import { createRunFolder } from '../process.ts';
import type { PeerName } from '../registry.ts';
import type { LiteralParams, WebServerOptions } from '../web-server.ts';

/** A literal param with characters every config syntax must quote. */
export const literalValue = 'spaces, "quotes", = & ünïcödé';

/** The routes the checks use: path → probe params. */
export const probeRoutes = {
  '/status-404': { PROBE_ACTION: 'status', PROBE_STATUS: '404' },
  '/literal': { PROBE_ACTION: 'echo-param', PROBE_NAME: 'X_FCGISPEC_LITERAL' },
  '/bulk': { PROBE_ACTION: 'bulk', PROBE_SIZE: '300000' },
} as const satisfies Record<string, LiteralParams>;

const globalParams = { X_FCGISPEC_LITERAL: literalValue } as const;

async function expectAnswer(res: Response, expected: ProbeExpectation, what: string, output: () => string): Promise<void> {
  const body = Buffer.from(await res.arrayBuffer());
  expect(res.status, `${what}: HTTP status; the server printed:\n${output()}`).toBe(expected.status);
  expect(res.headers.get('content-type'), `${what}: Content-Type`).toBe('application/octet-stream');
  expect(body.equals(Buffer.from(expected.body)), `${what}: body of ${body.length} bytes, expected ${expected.body.length}`).toBe(true);
}

/** Sends the probe requests through a running server: echo a POST body, a 404, a literal param, a bulk body. */
export async function checkProbeOverHttp(url: string, output: () => string): Promise<void> {
  const body = patternBytes(100_000, 11);
  const echoed = await fetch(`${url}probe`, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });
  await expectAnswer(echoed, expectedProbeResponse('responder', [], body), 'POST /probe (echo-stdin)', output);

  for (const [path, params] of Object.entries(probeRoutes)) {
    const res = await fetch(`${url}${path.slice(1)}`);
    await expectAnswer(res, expectedProbeResponse('responder', { ...globalParams, ...params }), `GET ${path}`, output);
  }
}

/** How the web server under test is started: the launcher, with the options the checks need. */
export type StartWebServer = (options: WebServerOptions & { readonly keepConn?: boolean }) => Promise<RunningWebServer>;

/** What the server can do, which decides the keep-conn test. */
export interface WebServerFeatures {
  /** Whether the launcher's `keepConn` makes the server keep backend connections (and set FCGI_KEEP_CONN). */
  readonly keepConn: boolean;
}

/**
 * Registers the web-server tests: the probe over HTTP with a TCP and with a Unix-socket backend, and the
 * backend connections the server uses (one kept connection with keepConn, else one per request).
 */
export function webServerProbeTests(name: PeerName, start: StartWebServer, features: WebServerFeatures): void {
  async function withServe(unix: boolean, keepConn: boolean, body: (server: RunningWebServer, connections: () => string[]) => Promise<void>): Promise<void> {
    const folder = createRunFolder('serve');
    const lines: string[] = [];
    const serve = await startServe({ listen: unix ? `unix:${folder.path}/serve.sock` : 'tcp:127.0.0.1:0', log: (line) => lines.push(line) });
    const connections = (): string[] => lines.map((l) => /^serve: conn=(\d+) id=/.exec(l)?.[1]).filter((c): c is string => c !== undefined);
    try {
      const server = await start({ backend: serve.address, params: globalParams, routes: probeRoutes, ...(keepConn ? { keepConn } : {}) });
      try {
        await body(server, connections);
      } catch (err) {
        throw new Error(`${(err as Error).message}\n--- ${name} printed:\n${server.output()}\n--- serve logged:\n${lines.slice(-20).join('\n')}`, { cause: err });
      } finally {
        await server.stop();
      }
    } finally {
      await serve.close(0);
      folder.remove();
    }
  }

  it.for([
    ['a TCP backend', false],
    ['a Unix-socket backend', true],
  ] as const)(`${name} returns the probe's answers over HTTP (%s)`, async ([, unix], ctx) => {
    requirePeer(name, ctx);
    await withServe(unix, false, (server) => checkProbeOverHttp(server.url, server.output));
  });

  if (features.keepConn) {
    it(`${name} with keepConn reuses kept backend connections for successive requests`, async (ctx) => {
      requirePeer(name, ctx);
      await withServe(false, true, async (server, connections) => {
        for (let i = 0; i < 3; i++) await checkProbeOverHttp(server.url, server.output);
        const used = connections();
        expect(used.length).toBe(12);
        // A server may keep one pool per location (h2o does): what counts is that each connection is reused.
        const perConnection = new Map<string, number>();
        for (const c of used) perConnection.set(c, (perConnection.get(c) ?? 0) + 1);
        expect(Math.min(...perConnection.values()), `backend connections used: ${used.join(' ')}`).toBeGreaterThanOrEqual(3);
      });
    });
  }

  it(`${name}${features.keepConn ? ' without keepConn' : ''} opens a backend connection per request`, async (ctx) => {
    requirePeer(name, ctx);
    await withServe(false, false, async (server, connections) => {
      await checkProbeOverHttp(server.url, server.output);
      const used = connections();
      expect(used.length).toBe(4);
      expect(new Set(used).size, `backend connections used: ${used.join(' ')}`).toBe(4);
    });
  });
}
