import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FCGI_ABORT_REQUEST, FCGI_AUTHORIZER, FCGI_FILTER, FCGI_KEEP_CONN, FCGI_RESPONDER, roleNames, type RoleName } from '../../spec/constants.ts';
import type { ParamsInit } from '../codec/name-value.ts';
import { collect, requestBytes, startTestResponder, type TestResponder } from '../responder/test-kit.ts';
import { createProbeHandler } from './app.ts';
import { bulkBytes, compareProbeResponse, expectedProbeResponse, parseCgiResponse, probeActions } from './model.ts';

const SEED = 20261127;

let server: TestResponder;
beforeAll(async () => {
  server = await startTestResponder({ handler: createProbeHandler({ echoBufferLimit: 100_000 }) }, 'unix');
});
afterAll(async () => {
  await server.close();
});

interface Case {
  readonly role: number;
  readonly params: ParamsInit;
  readonly stdin?: Uint8Array;
  readonly data?: Uint8Array;
  readonly split?: number;
}

/** Sends one request on a kept connection and compares the answer with the model. */
async function check(c: Case): Promise<string[]> {
  const conn = await server.connect();
  try {
    const stdin = c.stdin ?? new Uint8Array(0);
    const data = c.data ?? new Uint8Array(0);
    await conn.sendBytes(requestBytes({ id: 1, role: c.role, flags: FCGI_KEEP_CONN, params: c.params, stdin, ...(c.role === FCGI_FILTER ? { data } : {}), ...(c.split ? { records: { maxContent: c.split } } : {}) }));
    const r = await collect(conn, 1, 10_000);
    if (r.ending !== 'end-request') return [`no FCGI_END_REQUEST (${r.ending})`];
    const role = (roleNames as Record<number, RoleName>)[c.role]!;
    const expected = expectedProbeResponse(role, c.params, stdin, c.role === FCGI_FILTER ? data : new Uint8Array(0));
    return compareProbeResponse(expected, { stdout: r.stdout, stderr: r.stderr, ...(r.appStatus === undefined ? {} : { appStatus: r.appStatus }) });
  } finally {
    conn.destroy();
  }
}

describe('reference probe app against the model', () => {
  it.each<[string, Case]>([
    ['echo-stdin (default)', { role: FCGI_RESPONDER, params: {}, stdin: Buffer.from('hello\0world') }],
    ['echo-stdin, empty', { role: FCGI_RESPONDER, params: { PROBE_ACTION: 'echo-stdin', PROBE_EXIT: '12' } }],
    ['echo-stdin, streamed past the buffer limit', { role: FCGI_RESPONDER, params: {}, stdin: bulkBytes(300_000, 3) }],
    ['echo-data', { role: FCGI_FILTER, params: { PROBE_ACTION: 'echo-data' }, stdin: Buffer.from('in'), data: Buffer.from('the file') }],
    ['echo-data as Responder: empty', { role: FCGI_RESPONDER, params: { PROBE_ACTION: 'echo-data' } }],
    ['filter, other action', { role: FCGI_FILTER, params: { PROBE_ACTION: 'echo-stdin' }, stdin: Buffer.from('in'), data: bulkBytes(200_000) }],
    ['echo-param', { role: FCGI_RESPONDER, params: { PROBE_ACTION: 'echo-param', PROBE_NAME: 'HTTP_X', HTTP_X: 'v=1' } }],
    ['echo-param, absent', { role: FCGI_RESPONDER, params: { PROBE_ACTION: 'echo-param', PROBE_NAME: 'NOPE' } }],
    ['echo-params', { role: FCGI_RESPONDER, params: { PROBE_ACTION: 'echo-params', PROBE_PREFIX: 'P_', P_z: '1', P_a: '', Q: 'q' } }],
    ['bulk, small', { role: FCGI_RESPONDER, params: { PROBE_ACTION: 'bulk', PROBE_SIZE: '0' } }],
    ['bulk, large', { role: FCGI_RESPONDER, params: { PROBE_ACTION: 'bulk', PROBE_SIZE: '1000003' } }],
    ['sleep', { role: FCGI_RESPONDER, params: { PROBE_ACTION: 'sleep', PROBE_MS: '20' } }],
    ['stderr', { role: FCGI_RESPONDER, params: { PROBE_ACTION: 'stderr', PROBE_TEXT: 'to the log' } }],
    ['status', { role: FCGI_RESPONDER, params: { PROBE_ACTION: 'status', PROBE_STATUS: '503' } }],
    ['unknown action', { role: FCGI_RESPONDER, params: { PROBE_ACTION: 'nope' } }],
    ['authorizer allow', { role: FCGI_AUTHORIZER, params: { PROBE_AUTH: 'allow', PROBE_EXIT: '1' } }],
    ['authorizer deny', { role: FCGI_AUTHORIZER, params: { PROBE_AUTH: 'no' } }],
  ])('%s', async (_name, c) => {
    expect(await check(c)).toEqual([]);
  });

  it('matches the model for random requests split at random record sizes', async () => {
    const paramValue = fc.string({ maxLength: 40 });
    const request = fc.record({
      role: fc.constantFrom(FCGI_RESPONDER, FCGI_AUTHORIZER, FCGI_FILTER),
      action: fc.constantFrom(...probeActions, 'bogus', undefined),
      size: fc.oneof(fc.nat({ max: 70_000 }).map(String), fc.constant('x')),
      extra: fc.dictionary(fc.stringMatching(/^P_[A-Za-z0-9_]{0,8}$/), paramValue, { maxKeys: 5 }),
      name: fc.constantFrom('P_A', 'P_B', 'MISSING'),
      status: fc.integer({ min: 90, max: 620 }).map(String),
      exit: fc.oneof(fc.nat().map(String), fc.constant('')),
      auth: fc.constantFrom('allow', 'deny'),
      text: paramValue,
      stdin: fc.uint8Array({ maxLength: 3000 }),
      data: fc.uint8Array({ maxLength: 3000 }),
      split: fc.integer({ min: 1, max: 700 }),
    });
    console.log(`fast-check seed ${SEED}`);
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const params: Record<string, string> = {
          ...r.extra,
          PROBE_PREFIX: 'P_',
          PROBE_SIZE: r.size,
          PROBE_NAME: r.name,
          PROBE_STATUS: r.status,
          PROBE_AUTH: r.auth,
          PROBE_TEXT: r.text,
          PROBE_MS: '1',
          ...(r.action === undefined ? {} : { PROBE_ACTION: r.action }),
          ...(r.exit === '' ? {} : { PROBE_EXIT: r.exit }),
        };
        expect(await check({ role: r.role, params, stdin: r.stdin, data: r.data, split: r.split })).toEqual([]);
      }),
      { seed: SEED, numRuns: 60 },
    );
  });

  it('ends an aborted sleep at once with FCGI_END_REQUEST', async () => {
    const conn = await server.connect();
    await conn.sendBytes(requestBytes({ id: 4, params: { PROBE_ACTION: 'sleep', PROBE_MS: '600000' } }));
    await new Promise((r) => setTimeout(r, 20));
    await conn.sendRecord({ type: FCGI_ABORT_REQUEST, requestId: 4 });
    const r = await collect(conn, 4);
    expect(r.ending).toBe('end-request');
    expect(r.stdout.length).toBe(0);
    conn.destroy();
  });
});

describe('probe app faults', () => {
  it('no-status-header leaves out the Status line of a 200; echo-wrong changes one byte', async () => {
    const s = await startTestResponder({ handler: createProbeHandler(), faults: [{ name: 'no-status-header' }, { name: 'echo-wrong', every: 2 }] });
    try {
      const answers: Buffer[] = [];
      for (let i = 0; i < 2; i++) {
        const conn = await s.connect();
        await conn.sendBytes(requestBytes({ id: 1, stdin: 'abc' }));
        answers.push((await collect(conn, 1)).stdout);
        conn.destroy();
      }
      expect(answers[0]!.toString()).toBe('Content-Type: application/octet-stream\r\n\r\nabc');
      expect(parseCgiResponse(answers[1]!)?.body.toString()).toBe('`bc');
      const problems = compareProbeResponse(expectedProbeResponse('responder', {}, Buffer.from('abc')), { stdout: answers[1]! });
      expect(problems).toHaveLength(1);
    } finally {
      await s.close();
    }
  });
});
