/**
 * Probe checks for any application peer, as vitest tests: the reference client sends one request per probe
 * action (and per role the peer serves), and each answer is compared with what the probe contract's model
 * expects of that probe on that peer (`expectedOnPeer`). A failure here is a bug in the probe app or in its
 * `ProbeSupport`, never a finding about the peer: those are for the suites.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Client, ClientError, type RequestResult } from '../../../reference/client/index.ts';
import { compareProbeResponse } from '../../../reference/probe/model.ts';
import { FCGI_REQUEST_COMPLETE, FCGI_UNKNOWN_ROLE, type RoleName } from '../../../spec/constants.ts';
import { patternBytes } from '../../../suites/kit.ts';
import { peerAvailable, requirePeer, type SkippableContext } from '../availability.ts';
import type { RunningApplication } from '../peer.ts';
import { expectedOnPeer, type ProbeSupport } from '../probe-support.ts';
import type { PeerName } from '../registry.ts';

type Pairs = readonly (readonly [string, string])[];

/** One probe request: the probe params, and the bodies. */
interface Probe {
  readonly role?: RoleName;
  readonly params: Pairs;
  readonly stdin?: Uint8Array;
  readonly data?: Uint8Array;
}

const text = (s: string): Uint8Array => Buffer.from(s, 'utf8');

/**
 * Registers the probe tests for one application peer. `start` runs once (beforeAll) when the peer is
 * installed; each test then sends its requests over one pooled reference client.
 */
export function probeActionTests(name: PeerName, start: () => Promise<RunningApplication>, support: ProbeSupport): void {
  let app: RunningApplication | undefined;
  let client: Client | undefined;
  beforeAll(async () => {
    if (!peerAvailable(name).available) return;
    app = await start();
    // keepConn false: every request on its own connection, as most web servers do by default.
    client = new Client(app.address, { maxConnections: 2, timeoutMs: 10_000, keepConn: false, multiplex: false });
  }, 120_000);
  afterAll(async () => {
    await client?.close();
    await app?.stop();
  });

  function paramsOf(probe: Probe): Pairs {
    if (!app) throw new Error(`${name} did not start`);
    return [
      ...Object.entries(app.params),
      ['REQUEST_METHOD', probe.stdin ? 'POST' : 'GET'],
      ['CONTENT_TYPE', 'application/octet-stream'],
      ['CONTENT_LENGTH', String(probe.stdin?.length ?? 0)],
      ...probe.params,
    ];
  }

  async function send(ctx: SkippableContext, probe: Probe): Promise<{ result: RequestResult; params: Pairs }> {
    requirePeer(name, ctx);
    if (!client) throw new Error(`${name} did not start`);
    const params = paramsOf(probe);
    const result = await client.request({
      role: probe.role ?? 'responder',
      params,
      ...(probe.stdin ? { stdin: probe.stdin } : {}),
      ...(probe.data ? { data: probe.data } : {}),
    });
    return { result, params };
  }

  /** Sends a probe request and checks the answer against the model. */
  async function check(ctx: SkippableContext, probe: Probe): Promise<RequestResult> {
    const { result, params } = await send(ctx, probe);
    const output = (): string => app?.output() ?? '';
    expect(result.protocolStatus, `${name} ended with protocolStatus ${result.protocolStatus}; it printed:\n${output()}`).toBe(FCGI_REQUEST_COMPLETE);
    const expected = expectedOnPeer(support, probe.role ?? 'responder', params, probe.stdin, probe.data);
    const problems = compareProbeResponse(expected, { stdout: result.stdout, stderr: result.stderr, appStatus: result.appStatus });
    expect(problems, `${name}'s answer; stdout starts ${JSON.stringify(result.stdout.subarray(0, 200).toString('latin1'))}; stderr ${JSON.stringify(result.stderr.subarray(0, 200).toString('latin1'))}; it printed:\n${output()}`).toEqual([]);
    return result;
  }

  it('echo-stdin: echoes 100 000 bytes of binary STDIN (more than one record)', async (ctx) => {
    await check(ctx, { params: [['PROBE_ACTION', 'echo-stdin']], stdin: patternBytes(100_000, 7) });
  });

  it('echo-stdin is the action when PROBE_ACTION is absent', async (ctx) => {
    await check(ctx, { params: [], stdin: text('no action given\r\n\u0000\u00ff') });
  });

  it('echo-data: a Responder receives no FCGI_DATA', async (ctx) => {
    await check(ctx, { params: [['PROBE_ACTION', 'echo-data']] });
  });

  it('echo-param: returns the named param, and 404 for a missing one', async (ctx) => {
    await check(ctx, { params: [['PROBE_ACTION', 'echo-param'], ['PROBE_NAME', 'X_FCGISPEC_VALUE'], ['X_FCGISPEC_VALUE', 'a value with spaces, = and ünïcödé']] });
    await check(ctx, { params: [['PROBE_ACTION', 'echo-param'], ['PROBE_NAME', 'X_FCGISPEC_ABSENT']] });
    await check(ctx, { params: [['PROBE_ACTION', 'echo-param']] });
  });

  it(`echo-param of a CGI variable (REQUEST_METHOD)${support.hiddenParams ? `: 404, ${support.hiddenParams.why}` : ''}`, async (ctx) => {
    await check(ctx, { params: [['PROBE_ACTION', 'echo-param'], ['PROBE_NAME', 'REQUEST_METHOD']], stdin: text('posted') });
  });

  it('echo-params: lists the params with a prefix, sorted bytewise', async (ctx) => {
    await check(ctx, {
      params: [
        ['X_FCGISPEC_b', '2'],
        ['PROBE_ACTION', 'echo-params'],
        ['X_FCGISPEC_A', 'one'],
        ['X_FCGISPEC_EMPTY', ''],
        ['PROBE_PREFIX', 'X_FCGISPEC_'],
        ['X_FCGISPEC_a_longer_name', 'three words here'],
      ],
    });
  });

  it('bulk: sends 300 000 bytes of the pattern', async (ctx) => {
    await check(ctx, { params: [['PROBE_ACTION', 'bulk'], ['PROBE_SIZE', '300000']] });
  });

  it('bulk: a malformed PROBE_SIZE is 400', async (ctx) => {
    await check(ctx, { params: [['PROBE_ACTION', 'bulk'], ['PROBE_SIZE', '12x']] });
  });

  it('sleep: answers after PROBE_MS', async (ctx) => {
    await check(ctx, { params: [['PROBE_ACTION', 'sleep'], ['PROBE_MS', '20']] });
  });

  it(`stderr: ${support.notImplemented.stderr ? `501 (${support.notImplemented.stderr})` : `writes PROBE_TEXT to FCGI_STDERR (${support.capabilities.stderr})`}`, async (ctx) => {
    await check(ctx, { params: [['PROBE_ACTION', 'stderr'], ['PROBE_TEXT', 'probe says: hello on stderr']] });
  });

  it('status: answers with the status asked for (404, 299)', async (ctx) => {
    await check(ctx, { params: [['PROBE_ACTION', 'status'], ['PROBE_STATUS', '404']] });
    await check(ctx, { params: [['PROBE_ACTION', 'status'], ['PROBE_STATUS', '299']] });
  });

  it('an unknown action is 400', async (ctx) => {
    await check(ctx, { params: [['PROBE_ACTION', 'no-such-action']] });
  });

  it(`PROBE_EXIT: ${support.capabilities.appStatus ? 'sets appStatus' : 'cannot set appStatus (0 is sent)'}, and a malformed one is 400`, async (ctx) => {
    const result = await check(ctx, { params: [['PROBE_ACTION', 'echo-stdin'], ['PROBE_EXIT', '7']], stdin: text('exit') });
    if (!support.capabilities.appStatus) expect(result.appStatus, `${name} is documented to send appStatus 0`).toBe(0);
    await check(ctx, { params: [['PROBE_EXIT', '-1']] });
  });

  if (support.roles.includes('authorizer')) {
    it('Authorizer role: 200 with Variable-PROBE for PROBE_AUTH=allow, 403 otherwise', async (ctx) => {
      await check(ctx, { role: 'authorizer', params: [['PROBE_AUTH', 'allow']] });
      await check(ctx, { role: 'authorizer', params: [['PROBE_AUTH', 'deny']] });
    });
  }

  if (support.roles.includes('filter')) {
    it('Filter role: echo-data returns FCGI_DATA, echo-stdin FCGI_STDIN', async (ctx) => {
      const data = patternBytes(70_000, 3);
      await check(ctx, { role: 'filter', params: [['PROBE_ACTION', 'echo-data']], stdin: text('the stdin'), data });
      await check(ctx, { role: 'filter', params: [['PROBE_ACTION', 'echo-stdin']], stdin: text('the stdin'), data });
    });
  }

  const others = (['authorizer', 'filter'] as const).filter((role) => !support.roles.includes(role));
  for (const role of others) {
    it(`${role} role: ${support.otherRoles === 'unknown-role' ? 'refused with FCGI_UNKNOWN_ROLE' : 'served as a Responder'}`, async (ctx) => {
      const probe: Probe = { role, params: [['PROBE_ACTION', 'echo-stdin'], ['PROBE_AUTH', 'allow']], stdin: text('as responder') };
      if (support.otherRoles === 'unknown-role') {
        const err = await send(ctx, probe).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(ClientError);
        expect((err as ClientError).protocolStatus).toBe(FCGI_UNKNOWN_ROLE);
      } else {
        const { result, params } = await send(ctx, probe);
        const problems = compareProbeResponse(expectedOnPeer(support, 'responder', params, probe.stdin), { stdout: result.stdout, stderr: result.stderr });
        expect(problems).toEqual([]);
      }
    });
  }
}
