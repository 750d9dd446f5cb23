// The judge against hand-built observations: what a conformant application may do passes, each kind of
// deviation is reported under its requirement, and a record counts as sent once its content is (not its padding).
import { describe, expect, it } from 'vitest';
import {
  FCGI_CANT_MPX_CONN,
  FCGI_END_REQUEST,
  FCGI_GET_VALUES_RESULT,
  FCGI_REQUEST_COMPLETE,
  FCGI_STDOUT,
  FCGI_UNKNOWN_ROLE,
  FCGI_UNKNOWN_TYPE,
} from '../../spec/constants.ts';
import { encodeEndRequestBody, encodeUnknownTypeBody } from '../../reference/codec/bodies.ts';
import { encodeNameValuePairs } from '../../reference/codec/name-value.ts';
import { alignedPadding, decodeRecord, encodeRecord, type DecodedRecord, type RecordInit } from '../../reference/codec/record.ts';
import type { Profile } from '../define.ts';
import { failingRequirements, judgeConnection, SentRecords, type ConnectionObservation, type LogItem, type ModelOptions } from './model.ts';
import { buildWirePlan, type FuzzPlan, type RequestSpec } from './plan.ts';

const profile: Profile = { roles: ['responder', 'authorizer', 'filter'], multiplex: true, keepConn: true, probe: false };
const options: ModelOptions = { profile, appStatus: 'exact', strict: false };

function request(over: Partial<RequestSpec> = {}): RequestSpec {
  return { id: 1, role: 1, keepConn: true, params: [], stdin: '', data: '', abort: null, chunks: [], longLengths: false, ...over };
}

function plan(batches: RequestSpec[][], extras: FuzzPlan['connections'][number]['batches'][number]['extras'] = []): FuzzPlan {
  return { connections: [{ batches: batches.map((requests, i) => ({ requests, extras: i === 0 ? extras : [], order: [] })), delivery: { padding: [], paddingByte: 0, writes: [] } }] };
}

function rec(init: RecordInit): DecodedRecord {
  const d = decodeRecord(encodeRecord({ paddingLength: alignedPadding(init.content?.length ?? 0), ...init }));
  if (d.kind !== 'record') throw new Error('test bug');
  return d.record;
}

const stdout = (id: number, text: string): DecodedRecord => rec({ type: FCGI_STDOUT, requestId: id, content: Buffer.from(text) });
const end = (id: number, protocolStatus = FCGI_REQUEST_COMPLETE, appStatus = 0): DecodedRecord =>
  rec({ type: FCGI_END_REQUEST, requestId: id, content: encodeEndRequestBody({ appStatus, protocolStatus }) });
const answer = (id: number): DecodedRecord[] => [stdout(id, 'Status: 200\r\n\r\n'), stdout(id, ''), end(id)];

/** A log: each batch's writes at t = 10·b ms, then the records received at the given times. */
function observe(p: FuzzPlan, received: readonly (readonly [number, DecodedRecord])[], more: { closedAt?: number; until?: ConnectionObservation['observedUntil']; pendingBytes?: number } = {}) {
  const wire = buildWirePlan(p, { baseParams: {}, keepConn: profile.keepConn });
  const conn = wire.connections[0]!;
  const log: LogItem[] = [];
  conn.batches.forEach((b, bi) => b.writes.forEach((bytes) => log.push({ kind: 'send', atMs: bi * 10, batch: bi, bytes })));
  for (const [atMs, record] of received) log.push({ kind: 'record', atMs, record });
  if (more.closedAt !== undefined) log.push({ kind: 'closed', atMs: more.closedAt, how: 'end' });
  const obs: ConnectionObservation = { log, pendingBytes: more.pendingBytes ?? 0, observedUntil: more.until ?? (more.closedAt !== undefined ? 'closed' : 'barrier'), openedAtMs: 0 };
  return { wire: conn, obs };
}

function judge(p: FuzzPlan, received: readonly (readonly [number, DecodedRecord])[], more: Parameters<typeof observe>[2] = {}, opts: ModelOptions = options): string[] {
  const { wire, obs } = observe(p, received, more);
  return failingRequirements(judgeConnection(wire, obs, opts, 0).findings);
}

describe('judgeConnection', () => {
  it('passes a request answered and a kept connection left open', () => {
    expect(judge(plan([[request()]]), answer(1).map((r) => [1, r] as const))).toEqual([]);
  });

  it('passes a request without FCGI_KEEP_CONN answered, then closed', () => {
    expect(judge(plan([[request({ keepConn: false })]]), answer(1).map((r) => [1, r] as const), { closedAt: 2 })).toEqual([]);
  });

  it('reports a request never answered', () => {
    expect(judge(plan([[request()]]), [], { until: 'batch-timeout' })).toEqual(['FCGI-5.5-end-request-once']);
  });

  it('reports an aborted request never answered under the abort requirement', () => {
    expect(judge(plan([[request({ abort: 'in-stdin', stdin: 'abc', chunks: [1] })]]), [], { until: 'batch-timeout' })).toEqual(['FCGI-5.4-abort-ends-request']);
  });

  it('reports a second FCGI_END_REQUEST', () => {
    expect(judge(plan([[request()]]), [...answer(1), end(1)].map((r) => [1, r] as const))).toEqual(['FCGI-3.3-no-records-after-end']);
  });

  it('reports a close after a request with FCGI_KEEP_CONN, and the missing close after one without', () => {
    expect(judge(plan([[request()]]), answer(1).map((r) => [1, r] as const), { closedAt: 2 })).toEqual(['FCGI-5.1-keep-conn-set-stays-open']);
    expect(judge(plan([[request({ keepConn: false })]]), answer(1).map((r) => [1, r] as const), { until: 'close-wait' })).toEqual(['FCGI-5.1-keep-conn-clear-closes']);
  });

  it('reports a close after a kept request answered, before the next one', () => {
    const two = plan([[request()], [request({ keepConn: false })]]);
    expect(judge(two, answer(1).map((r) => [1, r] as const), { closedAt: 12 })).toEqual(['FCGI-5.1-keep-conn-set-stays-open', 'FCGI-5.5-end-request-once']);
  });

  it('reports a request left unanswered after a record of an inactive id as unanswered (the diagnosis finds the cause)', () => {
    const inactive = plan([[request({ keepConn: false })]], [{ kind: 'inactive', at: 0, type: 5, id: 9, content: 'x' }]);
    expect(judge(inactive, [], { closedAt: 1 })).toEqual(['FCGI-5.5-end-request-once']);
    const management = plan([[request({ keepConn: false })]], [{ kind: 'management', at: 0, type: 12, content: '' }]);
    expect(judge(management, [], { closedAt: 1 })).toEqual(['FCGI-4.2-unknown-type-reply', 'FCGI-5.5-end-request-once']);
  });

  it('reports a close before the answer', () => {
    expect(judge(plan([[request()]]), [], { closedAt: 1 })).toEqual(['FCGI-5.5-end-request-once']);
    expect(judge(plan([[request({ keepConn: false })]]), [], { closedAt: 1 })).toEqual(['FCGI-5.5-end-request-once']);
  });

  it('wants FCGI_UNKNOWN_ROLE for an unknown role, and accepts it for a role the profile does not claim', () => {
    expect(judge(plan([[request({ role: 7 })]]), answer(1).map((r) => [1, r] as const))).toEqual(['FCGI-5.1-unknown-role']);
    expect(judge(plan([[request({ role: 7 })]]), [[1, end(1, FCGI_UNKNOWN_ROLE)]])).toEqual([]);
    const responderOnly: ModelOptions = { ...options, profile: { ...profile, roles: ['responder'] } };
    expect(judge(plan([[request({ role: 3 })]]), [[1, end(1, FCGI_UNKNOWN_ROLE)]], {}, responderOnly)).toEqual([]);
    expect(judge(plan([[request({ role: 1 })]]), [[1, end(1, FCGI_UNKNOWN_ROLE)]])).toEqual(['FCGI-5.1-unknown-role']);
  });

  it('accepts FCGI_CANT_MPX_CONN or serial service from a target that does not multiplex', () => {
    const serial: ModelOptions = { ...options, profile: { ...profile, multiplex: false }, mpxsConns: '0' };
    const two = plan([[request({ id: 1 }), request({ id: 2 })]]);
    expect(judge(two, [...answer(1), end(2, FCGI_CANT_MPX_CONN)].map((r) => [1, r] as const), {}, serial)).toEqual([]);
    expect(judge(two, [...answer(1), ...answer(2)].map((r) => [1, r] as const), {}, serial)).toEqual([]);
    // Request 2 answered while request 1 was still active: it does multiplex, whatever FCGI_MPXS_CONNS says.
    expect(judge(two, [...answer(2), ...answer(1)].map((r) => [1, r] as const), {}, serial)).toEqual(['FCGI-4.1-mpxs-conns']);
  });

  it('holds a target that claims FCGI_MPXS_CONNS=1 to it', () => {
    const claims: ModelOptions = { ...options, mpxsConns: '1' };
    const two = plan([[request({ id: 1 }), request({ id: 2 })]]);
    expect(judge(two, [end(2, FCGI_CANT_MPX_CONN), ...answer(1)].map((r) => [1, r] as const), {}, claims)).toEqual(['FCGI-4.1-mpxs-conns']);
  });

  it('wants every management record answered, with the type it named', () => {
    const p = plan([[request()]], [{ kind: 'management', at: 0, type: 200, content: '' }, { kind: 'get-values', at: 0, names: ['FCGI_MPXS_CONNS'] }]);
    const result = rec({ type: FCGI_GET_VALUES_RESULT, requestId: 0, content: encodeNameValuePairs({ FCGI_MPXS_CONNS: '1' }) });
    const unknown = (t: number): DecodedRecord => rec({ type: FCGI_UNKNOWN_TYPE, requestId: 0, content: encodeUnknownTypeBody({ type: t }) });
    expect(judge(p, [unknown(200), result, ...answer(1)].map((r) => [1, r] as const))).toEqual([]);
    expect(judge(p, [result, ...answer(1)].map((r) => [1, r] as const))).toEqual(['FCGI-4.2-unknown-type-reply']);
    expect(judge(p, [unknown(201), result, ...answer(1)].map((r) => [1, r] as const))).toEqual(['FCGI-4.2-unknown-type-body']);
    expect(judge(p, [unknown(200), ...answer(1)].map((r) => [1, r] as const))).toEqual(['FCGI-4.1-get-values-any-time']);
  });

  it('ignores what follows a record the spec leaves undefined, but not how output is framed', () => {
    const p = plan([[request({ stdin: 'abc' })]], [{ kind: 'unknown-type', at: 2, type: 99, request: 0, content: '' }]);
    expect(judge(p, [], { closedAt: 1 })).toEqual([]);
    expect(judge(p, [[1, rec({ type: FCGI_STDOUT, requestId: 1, content: Buffer.from('x'), version: 2 })]], { closedAt: 2 })).toEqual(['FCGI-3.3-version-1']);
  });

  it('reports bytes of an unfinished record left at the end', () => {
    expect(judge(plan([[request()]]), answer(1).map((r) => [1, r] as const), { pendingBytes: 5 })).toEqual(['FCGI-3.3-records-only']);
  });

  it('reports output before FCGI_PARAMS ended', () => {
    const wire = buildWirePlan(plan([[request()]]), { baseParams: {}, keepConn: true }).connections[0]!;
    const [begin, ...rest] = wire.batches[0]!.records.map((r) => encodeRecord(r));
    const log: LogItem[] = [
      { kind: 'send', atMs: 0, batch: 0, bytes: begin! },
      { kind: 'record', atMs: 1, record: stdout(1, 'early') },
      ...rest.map((bytes) => ({ kind: 'send' as const, atMs: 2, batch: 0, bytes })),
      ...answer(1).map((record) => ({ kind: 'record' as const, atMs: 3, record })),
    ];
    const findings = judgeConnection(wire, { log, pendingBytes: 0, observedUntil: 'barrier', openedAtMs: 0 }, options, 0).findings;
    expect(failingRequirements(findings)).toEqual(['FCGI-6.2-params-before-output']);
  });
});

describe('attribution', () => {
  it("blames a target that does not multiplex for mixing a second request into the first's input", () => {
    const serial: ModelOptions = { ...options, profile: { ...profile, multiplex: false, probe: true }, mpxsConns: '0' };
    // Both BEGIN_REQUESTs first: request 2 begins during request 1's input; the target answers request 1 with
    // output before its PARAMS were even sent, and never answers request 2.
    const p: FuzzPlan = { connections: [{ batches: [{ requests: [request({ id: 1 }), request({ id: 2 })], extras: [], order: [0, 1] }], delivery: { padding: [], paddingByte: 0, writes: [] } }] };
    const wire = buildWirePlan(p, { baseParams: {}, keepConn: true }).connections[0]!;
    const records = wire.batches[0]!.records.map((r) => encodeRecord(r));
    const log: LogItem[] = [
      { kind: 'send', atMs: 0, batch: 0, bytes: records[0]! },
      { kind: 'send', atMs: 1, batch: 0, bytes: records[1]! },
      ...answer(1).map((record) => ({ kind: 'record' as const, atMs: 2, record })),
      ...records.slice(2).map((bytes) => ({ kind: 'send' as const, atMs: 3, batch: 0, bytes })),
      { kind: 'closed', atMs: 4, how: 'end' },
    ];
    const findings = judgeConnection(wire, { log, pendingBytes: 0, observedUntil: 'closed', openedAtMs: 0 }, serial, 0).findings;
    expect(failingRequirements(findings)).toEqual(['FCGI-5.1-keep-conn-set-stays-open', 'FCGI-5.5-cant-mpx-conn']);
    // It may react to the second BEGIN_REQUEST's header alone: that counts from the header on.
    const cut: LogItem[] = [
      { kind: 'send', atMs: 0, batch: 0, bytes: records[0]! },
      { kind: 'send', atMs: 1, batch: 0, bytes: records[1]!.subarray(0, 8) },
      ...answer(1).map((record) => ({ kind: 'record' as const, atMs: 2, record })),
      { kind: 'send', atMs: 3, batch: 0, bytes: records[1]!.subarray(8) },
      ...records.slice(2).map((bytes) => ({ kind: 'send' as const, atMs: 3, batch: 0, bytes })),
      { kind: 'closed', atMs: 4, how: 'end' },
    ];
    expect(failingRequirements(judgeConnection(wire, { log: cut, pendingBytes: 0, observedUntil: 'closed', openedAtMs: 0 }, serial, 0).findings)).toEqual([
      'FCGI-5.1-keep-conn-set-stays-open',
      'FCGI-5.5-cant-mpx-conn',
    ]);
    // The same exchange from a target that claims to multiplex is output before PARAMS ended.
    const mpx = judgeConnection(wire, { log, pendingBytes: 0, observedUntil: 'closed', openedAtMs: 0 }, { ...options, profile: { ...profile, probe: true } }, 0).findings;
    expect(failingRequirements(mpx)).toContain('FCGI-6.2-params-before-output');
  });
});

describe('a close while the input is being sent', () => {
  // The plan's bytes in two writes, the peer's close between them.
  function cutBy(p: FuzzPlan, firstBytes: number, how: 'end' | 'reset', received: readonly (readonly [number, DecodedRecord])[] = []): string[] {
    const wire = buildWirePlan(p, { baseParams: {}, keepConn: profile.keepConn }).connections[0]!;
    const bytes = Buffer.concat(wire.batches.flatMap((b) => b.writes));
    const log: LogItem[] = [
      { kind: 'send', atMs: 0, batch: 0, bytes: bytes.subarray(0, firstBytes) },
      ...received.map(([atMs, record]) => ({ kind: 'record' as const, atMs, record })),
      { kind: 'closed', atMs: 5, how },
      { kind: 'send', atMs: 6, batch: 0, bytes: bytes.subarray(firstBytes) },
    ];
    return failingRequirements(judgeConnection(wire, { log, pendingBytes: 0, observedUntil: 'closed', openedAtMs: 0 }, options, 0).findings);
  }
  const params: [string, string][] = [['NAME', 'x'.repeat(40)]];

  it('reports a request abandoned: the application closed before its input was all sent, with no answer', () => {
    // FCGI_BEGIN_REQUEST and half of FCGI_PARAMS reached it.
    expect(cutBy(plan([[request({ params })]]), 16 + 30, 'reset')).toEqual(['FCGI-5.5-end-request-once']);
    expect(cutBy(plan([[request({ params })]]), 16 + 30, 'end')).toEqual(['FCGI-5.5-end-request-once']);
  });

  it('does not blame a close after answering a request without FCGI_KEEP_CONN before its FCGI_STDIN was all sent', () => {
    const p = plan([[request({ keepConn: false, params, stdin: 'abcdefgh', chunks: [2, 2, 2] })]]);
    const bytes = Buffer.concat(buildWirePlan(p, { baseParams: {}, keepConn: profile.keepConn }).connections[0]!.batches[0]!.writes);
    // Up to the first FCGI_STDIN record: the params are complete, the body is not.
    let at = 0;
    while (bytes[at + 1] !== 5) at += 8 + bytes.readUInt16BE(at + 4) + bytes[at + 6]!;
    expect(cutBy(p, at, 'end', answer(1).map((r) => [1, r] as const))).toEqual([]);
    expect(cutBy(p, at, 'end')).toEqual(['FCGI-5.5-end-request-once']);
  });

  it('does not blame a request whose input never reached the application', () => {
    expect(cutBy(plan([[request({ params })]]), 0, 'end')).toEqual([]);
  });
});

describe('SentRecords', () => {
  it('hands a record out once its content is complete, before its padding', () => {
    const bytes = encodeRecord({ type: 9, requestId: 0, content: Uint8Array.of(1, 2, 3), paddingLength: 200 });
    const s = new SentRecords();
    expect(s.push(bytes.subarray(0, 10))).toHaveLength(0);
    const out = s.push(bytes.subarray(10, 12));
    expect(out).toHaveLength(1);
    expect(Array.from(out[0]!.content)).toEqual([1, 2, 3]);
    expect(s.push(bytes.subarray(12))).toHaveLength(0);
    expect(s.push(encodeRecord({ type: 5, requestId: 1 }))).toHaveLength(1);
  });
});
