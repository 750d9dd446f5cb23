import { afterEach, describe, expect, it } from 'vitest';
import {
  FCGI_ABORT_REQUEST,
  FCGI_CANT_MPX_CONN,
  FCGI_END_REQUEST,
  FCGI_GET_VALUES,
  FCGI_GET_VALUES_RESULT,
  FCGI_KEEP_CONN,
  FCGI_REQUEST_COMPLETE,
  FCGI_STDOUT,
  FCGI_UNKNOWN_TYPE,
} from '../../spec/constants.ts';
import { decodeEndRequestBody } from '../codec/bodies.ts';
import { decodeNameValuePairs, encodeNameValuePairs, pairsToMap } from '../codec/name-value.ts';
import { concatBytes, encodeRecord, readHeader } from '../codec/record.ts';
import type { RawConnection } from '../client/raw-connection.ts';
import { createProbeHandler } from '../probe/app.ts';
import { compareProbeResponse, expectedProbeResponse } from '../probe/model.ts';
import { faultCatalog, faultNames, parseFault, FaultError, type Fault, type FaultInfo, type FaultName } from './faults.ts';
import { allAligned, beginRecord, collect, paramsRecords, requestBytes, startTestResponder, waitClosed, type TestResponder } from './test-kit.ts';
import type { Handler } from './types.ts';
import { requirements } from '../../spec/requirements.ts';

/** Writes `out:` + stdin; STDERR, SLEEP (abortable) and EXIT params. */
const handler: Handler = async (req, res) => {
  const chunks: Buffer[] = [];
  for await (const c of req.stdin) chunks.push(c as Buffer);
  const sleep = Number(req.params.get('SLEEP') ?? 0);
  if (sleep) {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, sleep);
      req.signal.addEventListener('abort', () => (clearTimeout(t), resolve()));
    });
  }
  const err = req.params.get('STDERR');
  if (err) await res.writeStderr(err);
  await res.write(Buffer.concat([Buffer.from('out:'), ...chunks]));
  res.end(Number(req.params.get('EXIT') ?? 0));
};

let server: TestResponder | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function withFault(fault: Fault, options: { multiplex?: boolean; probe?: boolean } = {}): Promise<RawConnection> {
  server = await startTestResponder({
    handler: options.probe ? createProbeHandler() : handler,
    faults: [fault],
    ...(options.multiplex === undefined ? {} : { multiplex: options.multiplex }),
  });
  return server.connect();
}

/** All bytes received until the close (or a quiet second). */
async function allBytes(conn: RawConnection): Promise<Uint8Array> {
  await waitClosed(conn, 1000);
  return concatBytes(conn.transcript.flatMap((e) => (e.dir === 'received' ? [e.bytes] : [])));
}

/** Whether bytes are exactly a sequence of version-1 records. */
function framesExactly(bytes: Uint8Array): boolean {
  let at = 0;
  while (at + 8 <= bytes.length) {
    const h = readHeader(bytes, at);
    if (h.version !== 1) return false;
    at += 8 + h.contentLength + h.paddingLength;
  }
  return at === bytes.length;
}

async function management(conn: RawConnection, timeoutMs: number): Promise<{ type: number; content: Uint8Array } | undefined> {
  for (;;) {
    const e = await conn.next(timeoutMs);
    if (e.kind !== 'record') return undefined;
    if (e.record.requestId === 0) return e.record;
  }
}

const getValues = encodeRecord({ type: FCGI_GET_VALUES, requestId: 0, content: encodeNameValuePairs({ FCGI_MPXS_CONNS: '' }) });

/** One check per fault: a new fault does not compile until it has one. */
const checks: Record<FaultName, () => Promise<void>> = {
  async 'delay'() {
    const conn = await withFault({ name: 'delay', arg: 300 });
    await conn.sendBytes(requestBytes({ id: 1, stdin: 'x' }));
    expect((await collect(conn, 1, 60)).ending).toBe('timeout');
    expect((await collect(conn, 1)).ending).toBe('end-request');
  },
  async 'slow-output'() {
    const conn = await withFault({ name: 'slow-output', arg: 40 });
    const t0 = performance.now();
    await conn.sendBytes(requestBytes({ id: 1, stdin: 'x' }));
    const r = await collect(conn, 1);
    expect(r.stdout.toString()).toBe('out:x');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(3 * 40 - 5); // STDOUT, its end, END_REQUEST
  },
  async 'tiny-writes'() {
    const conn = await withFault({ name: 'tiny-writes' });
    await conn.sendBytes(requestBytes({ id: 1, stdin: 'tiny' }));
    const r = await collect(conn, 1);
    expect(r.stdout.toString()).toBe('out:tiny');
    const chunks = conn.transcript.filter((e) => e.dir === 'received');
    expect(chunks.length).toBeGreaterThan(10);
  },
  async 'tiny-records'() {
    const conn = await withFault({ name: 'tiny-records', arg: 3 }, { probe: true });
    await conn.sendBytes(requestBytes({ id: 1, params: { PROBE_ACTION: 'bulk', PROBE_SIZE: '10000' } }));
    const r = await collect(conn, 1);
    expect(compareProbeResponse(expectedProbeResponse('responder', { PROBE_ACTION: 'bulk', PROBE_SIZE: '10000' }), { stdout: r.stdout })).toEqual([]);
    const sizes = r.records.filter((rec) => rec.type === FCGI_STDOUT && rec.content.length > 0).map((rec) => rec.content.length);
    expect(sizes.slice(0, 1365).every((n) => n === 3)).toBe(true); // 4095 bytes in records of 3, then one of 1
    expect(sizes[1365]).toBe(1);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(r.stdout.length);
  },
  async 'padding-255'() {
    const conn = await withFault({ name: 'padding-255' });
    await conn.sendBytes(requestBytes({ id: 1, stdin: 'pad' }));
    const r = await collect(conn, 1);
    expect(r.stdout.toString()).toBe('out:pad');
    expect(r.records.every((rec) => rec.paddingLength >= 248)).toBe(true);
    expect(allAligned(r.records)).toBe(true);
  },
  async 'stderr-flood'() {
    const conn = await withFault({ name: 'stderr-flood', arg: 100_000 });
    await conn.sendBytes(requestBytes({ id: 1 }));
    const r = await collect(conn, 1);
    expect(r.stderr.length).toBe(100_000);
    expect(r.stderrTerminated).toBe(true);
    expect(r.stdout.toString()).toBe('out:');
  },
  async 'no-status-header'() {
    const conn = await withFault({ name: 'no-status-header' }, { probe: true });
    await conn.sendBytes(requestBytes({ id: 1, stdin: 'abc' }));
    const r = await collect(conn, 1);
    expect(r.stdout.toString()).toBe('Content-Type: application/octet-stream\r\n\r\nabc');
    expect(compareProbeResponse(expectedProbeResponse('responder', {}, Buffer.from('abc')), { stdout: r.stdout })).toEqual([]);
  },
  async 'no-stdout-end'() {
    const conn = await withFault({ name: 'no-stdout-end' });
    await conn.sendBytes(requestBytes({ id: 1 }));
    const r = await collect(conn, 1);
    expect(r.ending).toBe('end-request');
    expect(r.stdout.toString()).toBe('out:');
    expect(r.stdoutTerminated).toBe(false);
  },
  async 'no-stderr-end'() {
    const conn = await withFault({ name: 'no-stderr-end' });
    await conn.sendBytes(requestBytes({ id: 1 }));
    const r = await collect(conn, 1);
    expect(r.stderr.length).toBeGreaterThan(0);
    expect(r.stderrTerminated).toBe(false);
    expect(r.stdoutTerminated).toBe(true);
  },
  async 'wrong-request-id'() {
    const conn = await withFault({ name: 'wrong-request-id' });
    await conn.sendBytes(requestBytes({ id: 1 }));
    const r = await collect(conn, 1);
    expect(r.records).toEqual([]);
    expect(r.others.length).toBeGreaterThan(0);
    expect(r.others.every((rec) => rec.requestId === 2)).toBe(true);
    expect(r.others.some((rec) => rec.type === FCGI_END_REQUEST)).toBe(true);
  },
  async 'wrong-version'() {
    const conn = await withFault({ name: 'wrong-version', arg: 3 });
    await conn.sendBytes(requestBytes({ id: 1 }));
    const r = await collect(conn, 1);
    expect(r.records.length).toBeGreaterThan(0);
    expect(r.records.every((rec) => rec.version === 3)).toBe(true);
  },
  async 'bad-padding'() {
    const conn = await withFault({ name: 'bad-padding' });
    await conn.sendBytes(requestBytes({ id: 1, stdin: 'abcd' }));
    const r = await collect(conn, 1);
    expect(r.stdout.toString()).toBe('out:abcd');
    expect(r.records.some((rec) => (8 + rec.content.length + rec.paddingLength) % 8 !== 0)).toBe(true);
  },
  async 'short-padding'() {
    const conn = await withFault({ name: 'short-padding' });
    await conn.sendBytes(requestBytes({ id: 1 }));
    expect(framesExactly(await allBytes(conn))).toBe(false);
  },
  async 'nonzero-reserved'() {
    const conn = await withFault({ name: 'nonzero-reserved' });
    await conn.sendBytes(requestBytes({ id: 1 }));
    const r = await collect(conn, 1);
    expect(r.records.every((rec) => rec.reserved === 0xa5)).toBe(true);
    const end = r.records.find((rec) => rec.type === FCGI_END_REQUEST)!;
    expect([...decodeEndRequestBody(end.content).reserved]).toEqual([0xa5, 0xa5, 0xa5]);
  },
  async 'duplicate-end-request'() {
    const conn = await withFault({ name: 'duplicate-end-request' });
    await conn.sendBytes(requestBytes({ id: 1, flags: FCGI_KEEP_CONN }));
    await collect(conn, 1);
    const again = await collect(conn, 1, 500);
    expect(again.ending).toBe('end-request');
    expect(again.records).toHaveLength(1);
  },
  async 'output-after-end'() {
    const conn = await withFault({ name: 'output-after-end' });
    await conn.sendBytes(requestBytes({ id: 1, flags: FCGI_KEEP_CONN }));
    await collect(conn, 1);
    const e = await conn.next(500);
    expect(e.kind === 'record' && e.record.type === FCGI_STDOUT && e.record.requestId === 1).toBe(true);
  },
  async 'end-before-stdout'() {
    const conn = await withFault({ name: 'end-before-stdout' });
    await conn.sendBytes(requestBytes({ id: 1, flags: FCGI_KEEP_CONN, stdin: 'late' }));
    const r = await collect(conn, 1);
    expect(r.records).toHaveLength(1); // END_REQUEST came first
    const after = await collect(conn, 1, 300);
    expect(after.stdout.toString()).toBe('out:late');
    expect(after.stdoutTerminated).toBe(true);
  },
  async 'no-end-request'() {
    const conn = await withFault({ name: 'no-end-request' });
    await conn.sendBytes(requestBytes({ id: 1 }));
    const r = await collect(conn, 1);
    expect(r.ending).toBe('closed');
    expect(r.stdoutTerminated).toBe(true);
    expect(r.records.some((rec) => rec.type === FCGI_END_REQUEST)).toBe(false);
  },
  async 'wrong-app-status'() {
    const conn = await withFault({ name: 'wrong-app-status' });
    await conn.sendBytes(requestBytes({ id: 1, params: { EXIT: '41' } }));
    expect((await collect(conn, 1)).appStatus).toBe(42);
  },
  async 'close-mid-record'() {
    const conn = await withFault({ name: 'close-mid-record' });
    await conn.sendBytes(requestBytes({ id: 1, stdin: 'some output' }));
    const r = await collect(conn, 1);
    expect(r.ending).toBe('closed');
    expect(r.records).toEqual([]);
    const closed = conn.transcript.find((e) => e.dir === 'closed');
    expect(closed && 'detail' in closed ? closed.detail : '').toMatch(/unfinished record/);
  },
  async 'ignore-abort'() {
    const conn = await withFault({ name: 'ignore-abort' });
    await conn.sendBytes(requestBytes({ id: 1, params: { SLEEP: '400' } }));
    await conn.sendRecord({ type: FCGI_ABORT_REQUEST, requestId: 1 });
    expect((await collect(conn, 1, 100)).ending).toBe('timeout');
    const r = await collect(conn, 1);
    expect(r.stdout.toString()).toBe('out:'); // the request ran to its normal end
  },
  async 'reset-on-abort'() {
    const conn = await withFault({ name: 'reset-on-abort' });
    await conn.sendBytes(requestBytes({ id: 1, params: { SLEEP: '10000' } }));
    await new Promise((r) => setTimeout(r, 20));
    await conn.sendRecord({ type: FCGI_ABORT_REQUEST, requestId: 1 });
    const r = await collect(conn, 1);
    expect(r.ending).toBe('closed');
    expect(r.closeHow).toBe('reset');
  },
  async 'ignore-keep-conn'() {
    const conn = await withFault({ name: 'ignore-keep-conn' });
    await conn.sendBytes(requestBytes({ id: 1, flags: FCGI_KEEP_CONN }));
    expect((await collect(conn, 1)).ending).toBe('end-request');
    expect(await waitClosed(conn)).toBe('end');
  },
  async 'never-close'() {
    const conn = await withFault({ name: 'never-close' });
    await conn.sendBytes(requestBytes({ id: 1 }));
    expect((await collect(conn, 1)).ending).toBe('end-request');
    expect(await waitClosed(conn, 200)).toBe('open');
  },
  async 'wrong-unknown-role'() {
    const conn = await withFault({ name: 'wrong-unknown-role' });
    await conn.sendBytes(requestBytes({ id: 1, role: 9 }));
    const r = await collect(conn, 1);
    expect(r.protocolStatus).toBe(FCGI_REQUEST_COMPLETE);
    expect(r.stdout.toString()).toBe('out:');
  },
  async 'no-cant-mpx'() {
    const conn = await withFault({ name: 'no-cant-mpx' }, { multiplex: false });
    await conn.sendBytes(getValues);
    expect(pairsToMap(decodeNameValuePairs((await management(conn, 1000))!.content).pairs).get('FCGI_MPXS_CONNS')).toBe('0');
    await conn.sendBytes(concatBytes([beginRecord(1, 1, FCGI_KEEP_CONN), paramsRecords(1, {}, false)]));
    await conn.sendBytes(requestBytes({ id: 2, flags: FCGI_KEEP_CONN }));
    expect((await collect(conn, 2)).protocolStatus).toBe(FCGI_REQUEST_COMPLETE);
  },
  async 'lie-mpxs'() {
    const conn = await withFault({ name: 'lie-mpxs' }, { multiplex: true });
    await conn.sendBytes(getValues);
    expect(pairsToMap(decodeNameValuePairs((await management(conn, 1000))!.content).pairs).get('FCGI_MPXS_CONNS')).toBe('1');
    await conn.sendBytes(concatBytes([beginRecord(1, 1, FCGI_KEEP_CONN), paramsRecords(1, {}, false)]));
    await conn.sendBytes(requestBytes({ id: 2, flags: FCGI_KEEP_CONN }));
    expect((await collect(conn, 2)).protocolStatus).toBe(FCGI_CANT_MPX_CONN);
  },
  async 'no-unknown-type'() {
    const conn = await withFault({ name: 'no-unknown-type' });
    await conn.sendRecord({ type: 42, requestId: 0 });
    expect(await management(conn, 150)).toBeUndefined();
    await conn.sendBytes(getValues);
    expect((await management(conn, 1000))?.type).toBe(FCGI_GET_VALUES_RESULT);
  },
  async 'no-get-values'() {
    const conn = await withFault({ name: 'no-get-values' });
    await conn.sendBytes(getValues);
    expect(await management(conn, 150)).toBeUndefined();
    await conn.sendRecord({ type: 42, requestId: 0 });
    expect((await management(conn, 1000))?.type).toBe(FCGI_UNKNOWN_TYPE);
  },
  async 'echo-wrong'() {
    const conn = await withFault({ name: 'echo-wrong' }, { probe: true });
    await conn.sendBytes(requestBytes({ id: 1, stdin: 'abc' }));
    const r = await collect(conn, 1);
    const problems = compareProbeResponse(expectedProbeResponse('responder', {}, Buffer.from('abc')), { stdout: r.stdout });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/body differs/);
  },
};

describe('fault catalog', () => {
  it('documents every fault: legal ones break nothing, the others name what they break', () => {
    for (const name of faultNames) {
      const info: FaultInfo = faultCatalog[name];
      expect(info.description.length).toBeGreaterThan(10);
      expect(info.breaks.length === 0).toBe(info.legal);
      for (const id of info.breaks) expect(Object.hasOwn(requirements, id), id).toBe(true);
      expect(info.takesArg).toBe(info.defaultArg !== undefined);
    }
  });

  it('parses NAME[=ARG][@N] and refuses the rest with one line', () => {
    expect(parseFault('delay=200@10')).toEqual({ name: 'delay', arg: 200, every: 10 });
    expect(parseFault('no-stdout-end')).toEqual({ name: 'no-stdout-end' });
    for (const bad of ['nope', 'no-stdout-end=3', 'delay=x', 'delay@0', '']) expect(() => parseFault(bad)).toThrow(FaultError);
    expect(() => parseFault('nope')).toThrow(/unknown fault "nope"/);
  });
});

describe('each fault shows its deviation on the wire', () => {
  it.each(faultNames)('%s', async (name) => {
    await checks[name]();
  });

  it('keeps records whole on a connection shared with a request written in pieces', async () => {
    const conn = await withFault({ name: 'tiny-writes', every: 2 });
    await conn.sendBytes(requestBytes({ id: 3, flags: FCGI_KEEP_CONN })); // request #1: no fault
    await collect(conn, 3);
    const a = Buffer.alloc(5000, 0x61);
    const b = Buffer.alloc(5000, 0x62);
    // Request #2 (id 2) is written in pieces; request #3 (id 1) answers meanwhile on the same connection.
    await conn.sendBytes(concatBytes([requestBytes({ id: 2, flags: FCGI_KEEP_CONN, stdin: b }), requestBytes({ id: 1, flags: FCGI_KEEP_CONN, stdin: a })]));
    const received = (): Uint8Array => concatBytes(conn.transcript.flatMap((e) => (e.dir === 'received' ? [e.bytes] : [])));
    const first = await collect(conn, 1, 1000);
    const second = await collect(conn, 2, 1000);
    expect(framesExactly(received())).toBe(true);
    expect(first.stdout.equals(Buffer.concat([Buffer.from('out:'), a]))).toBe(true);
    const secondOut = Buffer.concat([...first.others.filter((r) => r.requestId === 2), ...second.records].filter((r) => r.type === FCGI_STDOUT).map((r) => r.content));
    expect(secondOut.equals(Buffer.concat([Buffer.from('out:'), b]))).toBe(true);
  });

  it('applies a fault to every Nth request only', async () => {
    const conn = await withFault({ name: 'no-stdout-end', every: 2 });
    const terminated: boolean[] = [];
    for (let i = 0; i < 4; i++) {
      await conn.sendBytes(requestBytes({ id: 1, flags: FCGI_KEEP_CONN }));
      terminated.push((await collect(conn, 1)).stdoutTerminated);
    }
    expect(terminated).toEqual([true, false, true, false]);
  });
});
