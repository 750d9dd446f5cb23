/**
 * The probe checks every PHP application peer must pass, as vitest tests: the reference client sends probe
 * requests (echo STDIN, echo a param, a bulk body, a 404) and each answer is compared with what the probe
 * contract (reference/probe/model.ts) expects of a PHP probe.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Client } from '../../../reference/client/index.ts';
import { compareProbeResponse, expectedProbeResponse, phpCapabilities } from '../../../reference/probe/model.ts';
import { FCGI_REQUEST_COMPLETE } from '../../../spec/constants.ts';
import { patternBytes } from '../../../suites/kit.ts';
import { peerAvailable, requirePeer, type SkippableContext } from '../availability.ts';
import type { RunningApplication } from '../peer.ts';
import type { PeerName } from '../registry.ts';

type Pairs = readonly (readonly [string, string])[];

/** Registers the probe tests for one running application; `start` is called once, if the peer is installed. */
export function probeInteropTests(name: PeerName, start: () => Promise<RunningApplication>): void {
  let app: RunningApplication | undefined;
  let client: Client | undefined;
  beforeAll(async () => {
    if (!peerAvailable(name).available) return;
    app = await start();
    client = new Client(app.address, { maxConnections: 2, timeoutMs: 10_000 });
  }, 20_000);
  afterAll(async () => {
    await client?.close();
    await app?.stop();
  });

  /** Sends a probe request and checks the answer against the contract; returns the CGI body. */
  async function check(ctx: SkippableContext, probeParams: Pairs, stdin?: Uint8Array): Promise<void> {
    requirePeer(name, ctx);
    if (!app || !client) throw new Error(`${name} did not start`);
    const params: Pairs = [
      ...Object.entries(app.params),
      ['REQUEST_METHOD', stdin ? 'POST' : 'GET'],
      ['CONTENT_TYPE', 'application/octet-stream'],
      ['CONTENT_LENGTH', String(stdin?.length ?? 0)],
      ...probeParams,
    ];
    const res = await client.request({ params, ...(stdin ? { stdin } : {}) });
    expect(res.protocolStatus, `${name} ended with protocolStatus ${res.protocolStatus}; it printed:\n${app.output()}`).toBe(FCGI_REQUEST_COMPLETE);
    const expected = expectedProbeResponse('responder', params, stdin, undefined, phpCapabilities);
    const problems = compareProbeResponse(expected, { stdout: res.stdout, stderr: res.stderr, appStatus: res.appStatus });
    expect(problems, `${name}'s answer; stdout starts ${JSON.stringify(res.stdout.subarray(0, 160).toString('latin1'))}`).toEqual([]);
  }

  it('echoes STDIN as the body (echo-stdin, 100 000 bytes: more than one record)', async (ctx) => {
    await check(ctx, [['PROBE_ACTION', 'echo-stdin']], patternBytes(100_000, 7));
  });

  it('echoes one param (echo-param)', async (ctx) => {
    await check(ctx, [
      ['PROBE_ACTION', 'echo-param'],
      ['PROBE_NAME', 'X_FCGISPEC_VALUE'],
      ['X_FCGISPEC_VALUE', 'a value with spaces, = and ünïcödé'],
    ]);
  });

  it('sends a bulk body of the requested length (bulk, 300 000 bytes)', async (ctx) => {
    await check(ctx, [
      ['PROBE_ACTION', 'bulk'],
      ['PROBE_SIZE', '300000'],
    ]);
  });

  it('answers with the CGI status asked for (status 404)', async (ctx) => {
    await check(ctx, [
      ['PROBE_ACTION', 'status'],
      ['PROBE_STATUS', '404'],
    ]);
  });
}
