import { afterEach, describe, expect, it } from 'vitest';
import {
  FCGI_ABORT_REQUEST,
  FCGI_AUTHORIZER,
  FCGI_BEGIN_REQUEST,
  FCGI_CANT_MPX_CONN,
  FCGI_FILTER,
  FCGI_GET_VALUES,
  FCGI_GET_VALUES_RESULT,
  FCGI_KEEP_CONN,
  FCGI_OVERLOADED,
  FCGI_PARAMS,
  FCGI_REQUEST_COMPLETE,
  FCGI_RESPONDER,
  FCGI_STDIN,
  FCGI_STDOUT,
  FCGI_UNKNOWN_ROLE,
  FCGI_UNKNOWN_TYPE,
} from '../../spec/constants.ts';
import { encodeBeginRequestBody, decodeUnknownTypeBody } from '../codec/bodies.ts';
import { decodeNameValuePairs, encodeLength, encodeNameValuePairs, pairsToMap, toText } from '../codec/name-value.ts';
import { concatBytes, encodeRecord, encodeStream } from '../codec/record.ts';
import type { RawConnection } from '../client/raw-connection.ts';
import {
  allAligned,
  beginRecord,
  collect,
  paramsRecords,
  requestBytes,
  startTestResponder,
  waitClosed,
  type TestResponder,
  type Transport,
} from './test-kit.ts';
import type { Handler, ResponderOptions } from './types.ts';

/** Echoes role, params named in ECHO, stdin and data; ends with appStatus EXIT. Sleeps SLEEP ms (abortable). */
const echoHandler: Handler = async (req, res) => {
  const stdin: Buffer[] = [];
  for await (const c of req.stdin) stdin.push(c as Buffer);
  const data: Buffer[] = [];
  for await (const c of req.data) data.push(c as Buffer);
  const sleep = Number(req.params.get('SLEEP') ?? 0);
  if (sleep > 0) {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, sleep);
      req.signal.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      });
    });
    if (req.signal.aborted) return;
  }
  const err = req.params.get('STDERR');
  if (err) await res.writeStderr(err);
  await res.write(`role=${req.role} keep=${req.keepConn} id=${req.requestId}\n`);
  await res.write(Buffer.concat(stdin));
  if (data.length) await res.write(Buffer.concat([Buffer.from('|data='), ...data]));
  res.end(Number(req.params.get('EXIT') ?? 0));
};

let server: TestResponder | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(options: Partial<ResponderOptions> = {}, transport: Transport = 'tcp'): Promise<TestResponder> {
  server = await startTestResponder({ handler: echoHandler, ...options }, transport);
  return server;
}

function getValuesRecord(names: readonly string[]): Uint8Array {
  return encodeRecord({ type: FCGI_GET_VALUES, requestId: 0, content: encodeNameValuePairs(names.map((n) => [n, ''] as const)) });
}

async function nextManagement(conn: RawConnection, timeoutMs = 2000): Promise<{ type: number; content: Uint8Array } | undefined> {
  for (;;) {
    const e = await conn.next(timeoutMs);
    if (e.kind !== 'record') return undefined;
    if (e.record.requestId === 0) return e.record;
  }
}

describe.each<Transport>(['tcp', 'unix'])('responder over %s', (transport) => {
  it('serves each role; Filter gets FCGI_DATA; appStatus and alignment', async () => {
    const s = await start({}, transport);
    for (const [role, name] of [[FCGI_RESPONDER, 'responder'], [FCGI_AUTHORIZER, 'authorizer'], [FCGI_FILTER, 'filter']] as const) {
      const conn = await s.connect();
      await conn.sendBytes(requestBytes({ id: 1, role, params: { EXIT: '7' }, stdin: 'body', ...(role === FCGI_FILTER ? { data: 'file' } : {}) }));
      const r = await collect(conn, 1);
      expect(r.ending).toBe('end-request');
      expect(r.protocolStatus).toBe(FCGI_REQUEST_COMPLETE);
      expect(r.appStatus).toBe(7);
      expect(r.stdout.toString()).toBe(`role=${name} keep=false id=1\nbody${role === FCGI_FILTER ? '|data=file' : ''}`);
      expect(r.stdoutTerminated).toBe(true);
      expect(r.stderrTerminated).toBe(false);
      expect(allAligned(r.records)).toBe(true);
      expect(await waitClosed(conn)).toBe('end'); // FCGI_KEEP_CONN clear: the application closes
    }
  });
});

describe('FCGI_GET_VALUES (§4.1)', () => {
  it('answers the names asked, each once, unknown names omitted', async () => {
    const s = await start({ maxConns: 7, maxReqs: 33, multiplex: false });
    const conn = await s.connect();
    const cases: [string[], [string, string][]][] = [
      [['FCGI_MAX_CONNS', 'FCGI_MAX_REQS', 'FCGI_MPXS_CONNS'], [['FCGI_MAX_CONNS', '7'], ['FCGI_MAX_REQS', '33'], ['FCGI_MPXS_CONNS', '0']]],
      [[], []],
      [['FOO', 'FCGI_MAX_REQS'], [['FCGI_MAX_REQS', '33']]],
      [['FCGI_MAX_REQS', 'FCGI_MAX_REQS', 'FCGI_MAX_REQS'], [['FCGI_MAX_REQS', '33']]],
    ];
    for (const [names, expected] of cases) {
      await conn.sendBytes(getValuesRecord(names));
      const reply = await nextManagement(conn);
      expect(reply?.type).toBe(FCGI_GET_VALUES_RESULT);
      const { pairs, error } = decodeNameValuePairs(reply!.content);
      expect(error).toBeUndefined();
      expect(pairs.map((p) => [toText(p.name), toText(p.value)])).toEqual(expected);
    }
  });

  it('answers mid-request, without disturbing the request', async () => {
    const s = await start();
    const conn = await s.connect();
    const params = encodeNameValuePairs({ A: '1', EXIT: '3' });
    await conn.sendBytes(concatBytes([beginRecord(1, FCGI_RESPONDER, FCGI_KEEP_CONN), encodeStream(FCGI_PARAMS, 1, params.subarray(0, 3), { terminate: false })]));
    await conn.sendBytes(getValuesRecord(['FCGI_MPXS_CONNS']));
    const reply = await nextManagement(conn);
    expect(pairsToMap(decodeNameValuePairs(reply!.content).pairs).get('FCGI_MPXS_CONNS')).toBe('1');
    await conn.sendBytes(concatBytes([encodeStream(FCGI_PARAMS, 1, params.subarray(3)), encodeStream(FCGI_STDIN, 1, new Uint8Array())]));
    const r = await collect(conn, 1);
    expect(r.appStatus).toBe(3);
    // and between requests on a kept connection
    await conn.sendBytes(getValuesRecord(['FCGI_MAX_CONNS']));
    expect((await nextManagement(conn))?.type).toBe(FCGI_GET_VALUES_RESULT);
    await conn.sendBytes(requestBytes({ id: 1, params: { EXIT: '4' } }));
    expect((await collect(conn, 1)).appStatus).toBe(4);
  });
});

describe('management records (§4.2)', () => {
  it('answers FCGI_UNKNOWN_TYPE for unknown and application-only types on id 0, skipping their content', async () => {
    const s = await start();
    const conn = await s.connect();
    for (const type of [42, 12, 255, FCGI_GET_VALUES_RESULT, FCGI_UNKNOWN_TYPE, FCGI_BEGIN_REQUEST]) {
      await conn.sendRecord({ type, requestId: 0, content: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), paddingLength: 3 });
      const reply = await nextManagement(conn);
      expect(reply?.type).toBe(FCGI_UNKNOWN_TYPE);
      expect(reply?.content.length).toBe(8);
      const body = decodeUnknownTypeBody(reply!.content);
      expect(body.type).toBe(type);
      expect([...body.reserved]).toEqual([0, 0, 0, 0, 0, 0, 0]);
    }
    await conn.sendBytes(requestBytes({ id: 1, params: { EXIT: '5' } }));
    expect((await collect(conn, 1)).appStatus).toBe(5);
  });
});

describe('FCGI_BEGIN_REQUEST rejections (§5.1, §5.5)', () => {
  it('answers FCGI_UNKNOWN_ROLE for roles not served', async () => {
    const s = await start({ roles: ['responder'] });
    for (const role of [9, 0x0101, FCGI_AUTHORIZER, 0]) {
      const conn = await s.connect();
      await conn.sendBytes(requestBytes({ id: 3, role, flags: FCGI_KEEP_CONN }));
      const r = await collect(conn, 3);
      expect(r.protocolStatus).toBe(FCGI_UNKNOWN_ROLE);
      expect(r.records.length).toBe(1); // no stream output for a rejected request
      // the rest of the rejected request is for an inactive id and ignored; the connection serves on
      await conn.sendBytes(requestBytes({ id: 3, params: { EXIT: '1' } }));
      expect((await collect(conn, 3)).appStatus).toBe(1);
    }
  });

  it('answers FCGI_CANT_MPX_CONN without multiplexing, leaving the first request alone', async () => {
    const s = await start({ multiplex: false });
    const conn = await s.connect();
    await conn.sendBytes(concatBytes([beginRecord(1, FCGI_RESPONDER, FCGI_KEEP_CONN), paramsRecords(1, { EXIT: '2' }, false)]));
    await conn.sendBytes(requestBytes({ id: 2, flags: FCGI_KEEP_CONN }));
    const second = await collect(conn, 2);
    expect(second.protocolStatus).toBe(FCGI_CANT_MPX_CONN);
    await conn.sendBytes(concatBytes([encodeRecord({ type: FCGI_PARAMS, requestId: 1 }), encodeRecord({ type: FCGI_STDIN, requestId: 1 })]));
    expect((await collect(conn, 1)).appStatus).toBe(2);
  });

  it('serves interleaved requests when multiplexing (Appendix B example 4)', async () => {
    const s = await start();
    const conn = await s.connect();
    const a = requestBytes({ id: 1, flags: FCGI_KEEP_CONN, params: { EXIT: '1', SLEEP: '50' }, stdin: 'one' });
    const b = requestBytes({ id: 2, flags: FCGI_KEEP_CONN, params: { EXIT: '2' }, stdin: 'two' });
    await conn.sendBytes(concatBytes([a.subarray(0, 16), b.subarray(0, 16), a.subarray(16), b.subarray(16)]));
    const first = await collect(conn, 2);
    expect(first.stdout.toString()).toContain('two');
    const rest = await collect(conn, 1);
    expect(rest.appStatus).toBe(1);
    expect(Buffer.concat(rest.records.map((r) => r.content)).toString()).toContain('one');
  });

  it('answers FCGI_OVERLOADED past maxReqs', async () => {
    const s = await start({ maxReqs: 1 });
    const busy = await s.connect();
    await busy.sendBytes(concatBytes([beginRecord(1), paramsRecords(1, {}, false)]));
    const other = await s.connect();
    await other.sendBytes(requestBytes({ id: 1 }));
    expect((await collect(other, 1)).protocolStatus).toBe(FCGI_OVERLOADED);
    expect(await waitClosed(other)).toBe('end'); // rejected with FCGI_KEEP_CONN clear: closed
    await busy.sendBytes(concatBytes([encodeRecord({ type: FCGI_PARAMS, requestId: 1 }), encodeRecord({ type: FCGI_STDIN, requestId: 1 })]));
    expect((await collect(busy, 1)).protocolStatus).toBe(FCGI_REQUEST_COMPLETE);
  });

  it('closes a connection on a malformed FCGI_BEGIN_REQUEST or a second BEGIN for an active id', async () => {
    const s = await start();
    for (const bytes of [
      encodeRecord({ type: FCGI_BEGIN_REQUEST, requestId: 1, content: new Uint8Array(7) }),
      encodeRecord({ type: FCGI_BEGIN_REQUEST, requestId: 1, content: new Uint8Array(9) }),
      concatBytes([beginRecord(1), beginRecord(1)]),
    ]) {
      const conn = await s.connect();
      await conn.sendBytes(bytes);
      expect(await waitClosed(conn)).not.toBe('open');
    }
  });
});

describe('FCGI_KEEP_CONN (§5.1)', () => {
  it('keeps the connection across requests when set, reusing the id', async () => {
    const s = await start();
    const conn = await s.connect();
    for (let i = 0; i < 3; i++) {
      await conn.sendBytes(requestBytes({ id: 1, flags: FCGI_KEEP_CONN, params: { EXIT: String(i) } }));
      const r = await collect(conn, 1);
      expect(r.appStatus).toBe(i);
    }
    expect(await waitClosed(conn, 150)).toBe('open');
    await conn.sendBytes(requestBytes({ id: 1 }));
    await collect(conn, 1);
    expect(await waitClosed(conn)).toBe('end');
  });
});

describe('FCGI_ABORT_REQUEST (§5.4)', () => {
  it.each(['params', 'stdin', 'sleep'] as const)('ends an aborted request promptly with one FCGI_END_REQUEST (during %s)', async (phase) => {
    const s = await start({ abortAppStatus: 99 });
    const conn = await s.connect();
    const begin = beginRecord(1, FCGI_RESPONDER, FCGI_KEEP_CONN);
    if (phase === 'params') await conn.sendBytes(concatBytes([begin, paramsRecords(1, { A: 'b' }, false)]));
    if (phase === 'stdin') await conn.sendBytes(concatBytes([begin, paramsRecords(1, {}), encodeStream(FCGI_STDIN, 1, Buffer.from('part'), { terminate: false })]));
    if (phase === 'sleep') await conn.sendBytes(requestBytes({ id: 1, flags: FCGI_KEEP_CONN, params: { SLEEP: '60000' } }));
    await new Promise((r) => setTimeout(r, 20));
    await conn.sendRecord({ type: FCGI_ABORT_REQUEST, requestId: 1 });
    const r = await collect(conn, 1);
    expect(r.ending).toBe('end-request');
    expect(r.protocolStatus).toBe(FCGI_REQUEST_COMPLETE);
    expect(r.appStatus).toBe(99);
    expect(r.stdoutTerminated).toBe(true);
    // exactly one END_REQUEST, nothing after it; the connection stays usable
    await conn.sendRecord({ type: FCGI_ABORT_REQUEST, requestId: 1 });
    await conn.sendBytes(requestBytes({ id: 2, flags: FCGI_KEEP_CONN, params: { EXIT: '6' } }));
    const next = await collect(conn, 2);
    expect(next.others).toEqual([]);
    expect(next.appStatus).toBe(6);
  });

  it('lets the handler choose the appStatus of an aborted request', async () => {
    const s = await start({
      handler: (req, res) => {
        req.signal.addEventListener('abort', () => res.end(42));
      },
    });
    const conn = await s.connect();
    await conn.sendBytes(requestBytes({ id: 1 }));
    await new Promise((r) => setTimeout(r, 20));
    await conn.sendRecord({ type: FCGI_ABORT_REQUEST, requestId: 1 });
    expect((await collect(conn, 1)).appStatus).toBe(42);
  });

  it('fires the signal when the connection closes', async () => {
    let aborted: Promise<boolean> | undefined;
    const s = await start({
      handler: (req) => {
        aborted = new Promise((resolve) => req.signal.addEventListener('abort', () => resolve(true)));
      },
    });
    const conn = await s.connect();
    await conn.sendBytes(requestBytes({ id: 1 }));
    while (!aborted) await new Promise((r) => setTimeout(r, 5));
    conn.destroy();
    expect(await aborted).toBe(true);
  });
});

describe('request ids (§3.3)', () => {
  it('ignores records for inactive ids', async () => {
    const s = await start();
    const conn = await s.connect();
    await conn.sendBytes(requestBytes({ id: 1, flags: FCGI_KEEP_CONN }));
    await collect(conn, 1);
    await conn.sendBytes(concatBytes([
      encodeRecord({ type: FCGI_STDIN, requestId: 1, content: Buffer.from('stray') }),
      encodeRecord({ type: FCGI_PARAMS, requestId: 1 }),
      encodeRecord({ type: FCGI_ABORT_REQUEST, requestId: 1 }),
      encodeRecord({ type: FCGI_STDIN, requestId: 5, content: Buffer.from('never begun') }),
      encodeRecord({ type: FCGI_ABORT_REQUEST, requestId: 7 }),
      encodeRecord({ type: FCGI_STDOUT, requestId: 9, content: Buffer.from('wrong way') }),
    ]));
    await conn.sendBytes(requestBytes({ id: 2, params: { EXIT: '8' } }));
    const r = await collect(conn, 2);
    expect(r.others).toEqual([]);
    expect(r.appStatus).toBe(8);
  });
});

describe('hostile input', () => {
  it('closes the connection on malformed input and keeps serving others', async () => {
    const s = await start({ limits: { maxParamLength: 1024 } });
    const malformed: Uint8Array[] = [
      Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
      encodeRecord({ type: FCGI_BEGIN_REQUEST, requestId: 1, version: 2, content: encodeBeginRequestBody({ role: 1, flags: 0 }) }),
      // a truncated pair at the end of FCGI_PARAMS
      concatBytes([beginRecord(1), encodeStream(FCGI_PARAMS, 1, concatBytes([Uint8Array.of(4, 10), Buffer.from('NAMEval')]))]),
      // FCGI_STDIN before FCGI_PARAMS ended
      concatBytes([beginRecord(1), encodeRecord({ type: FCGI_STDIN, requestId: 1, content: Buffer.from('x') })]),
    ];
    for (const bytes of malformed) {
      const conn = await s.connect();
      await conn.sendBytes(bytes);
      expect(await waitClosed(conn)).not.toBe('open');
    }
    const ok = await s.connect();
    await ok.sendBytes(requestBytes({ id: 1, params: { EXIT: '9' } }));
    expect((await collect(ok, 1)).appStatus).toBe(9);
  });

  it('rejects a request whose params break the bounds with FCGI_OVERLOADED (a 2^31-1 declared length)', async () => {
    const s = await start({ limits: { maxParamLength: 1024 } });
    const conn = await s.connect();
    const huge = concatBytes([encodeLength(4, 4), encodeLength(0x7fffffff, 4), Buffer.from('NAMEpartial value')]);
    await conn.sendBytes(concatBytes([beginRecord(1, FCGI_RESPONDER, FCGI_KEEP_CONN), encodeStream(FCGI_PARAMS, 1, huge, { terminate: false })]));
    expect((await collect(conn, 1)).protocolStatus).toBe(FCGI_OVERLOADED);
    await conn.sendBytes(encodeStream(FCGI_PARAMS, 1, Buffer.alloc(3000, 1))); // rest of the stream: inactive id
    await conn.sendBytes(requestBytes({ id: 1, params: { EXIT: '2' } }));
    expect((await collect(conn, 1)).appStatus).toBe(2);
  });
});

describe('output (§3.3, §5.3)', () => {
  it('cuts large output into aligned records of at most 65535 bytes and terminates STDERR when used', async () => {
    const size = 200_000;
    const s = await start({
      handler: async (req, res) => {
        req.stdin.resume();
        await res.writeStderr('warn');
        await res.write(Buffer.alloc(size, 0x61));
        await res.write('');
        res.end();
      },
    });
    const conn = await s.connect();
    await conn.sendBytes(requestBytes({ id: 1 }));
    const r = await collect(conn, 1);
    expect(r.stdout.length).toBe(size);
    expect(r.stderr.toString()).toBe('warn');
    expect(r.stderrTerminated).toBe(true);
    expect(r.records.every((rec) => rec.content.length <= 0xffff)).toBe(true);
    expect(allAligned(r.records)).toBe(true);
    // one empty record per stream, at the end
    expect(r.records.filter((rec) => rec.content.length === 0).length).toBe(2);
  });

  it('flushes what the Writables hold before FCGI_END_REQUEST', async () => {
    const s = await start({
      handler: (req, res) => {
        req.stdin.pipe(res.stdout);
        req.stdin.on('end', () => res.end(3));
      },
    });
    const conn = await s.connect();
    const body = Buffer.alloc(300_000, 0x62);
    await conn.sendBytes(requestBytes({ id: 1, stdin: body, records: { maxContent: 1000 } }));
    const r = await collect(conn, 1);
    expect(r.stdout.equals(body)).toBe(true);
    expect(r.appStatus).toBe(3);
  });

  it('reports a handler that throws on FCGI_STDERR with appStatus 1', async () => {
    const s = await start({
      handler: () => {
        throw new Error('boom');
      },
    });
    const conn = await s.connect();
    await conn.sendBytes(requestBytes({ id: 1 }));
    const r = await collect(conn, 1);
    expect(r.appStatus).toBe(1);
    expect(r.stderr.toString()).toContain('boom');
    expect(r.stderrTerminated).toBe(true);
  });
});

describe('input backpressure', () => {
  it('stops reading the connection while the handler leaves stdin unread', async () => {
    let buffered = -1;
    const s = await start({
      handler: async (req, res) => {
        const stdin = req.stdin;
        await new Promise((r) => setTimeout(r, 300));
        buffered = stdin.readableLength;
        let n = 0;
        for await (const c of stdin) n += (c as Buffer).length;
        res.end(n === 4 * 1024 * 1024 ? 0 : 1);
      },
    });
    const conn = await s.connect();
    await conn.sendBytes(concatBytes([beginRecord(1), paramsRecords(1, {})]));
    const sending = conn.sendBytes(encodeStream(FCGI_STDIN, 1, Buffer.alloc(4 * 1024 * 1024, 1)));
    const r = await collect(conn, 1, 10_000);
    await sending;
    expect(r.appStatus).toBe(0);
    expect(buffered).toBeGreaterThanOrEqual(0);
    expect(buffered).toBeLessThan(1024 * 1024); // far less than the 4 MiB sent
  });
});

describe('connection limits', () => {
  it('closes connections past maxConns at once and serves again when one closes', async () => {
    const s = await start({ maxConns: 1 });
    const first = await s.connect();
    await first.sendBytes(getValuesRecord(['FCGI_MAX_CONNS']));
    expect(pairsToMap(decodeNameValuePairs((await nextManagement(first))!.content).pairs).get('FCGI_MAX_CONNS')).toBe('1');
    const second = await s.connect();
    expect(await waitClosed(second)).not.toBe('open');
    first.destroy();
    while (s.responder.connectionCount > 0) await new Promise((r) => setTimeout(r, 5));
    const third = await s.connect();
    await third.sendBytes(requestBytes({ id: 1, params: { EXIT: '4' } }));
    expect((await collect(third, 1)).appStatus).toBe(4);
  });

  it('honours FCGI_WEB_SERVER_ADDRS (§3.2)', async () => {
    for (const [list, transport, served] of [
      ['127.0.0.2', 'tcp', false],
      ['10.0.0.1, 127.0.0.1', 'tcp', true],
      ['127.0.0.1', 'unix', false], // not TCP/IP: the check fails
      ['', 'tcp', false],
    ] as const) {
      const s = await startTestResponder({ handler: echoHandler, webServerAddrs: list }, transport);
      try {
        const conn = await s.connect();
        await conn.sendBytes(requestBytes({ id: 1, params: { EXIT: '3' } }));
        const r = await collect(conn, 1);
        expect(r.ending, `${transport} with "${list}"`).toBe(served ? 'end-request' : 'closed');
        if (!served) expect(r.records).toEqual([]);
      } finally {
        await s.close();
      }
    }
  });
});

describe('serving any Duplex, and closing', () => {
  it('serves an in-memory Duplex pair', async () => {
    const { Duplex } = await import('node:stream');
    let toServer!: InstanceType<typeof Duplex>;
    let toClient!: InstanceType<typeof Duplex>;
    toServer = new Duplex({ read() {}, write(c, _e, cb) { toClient.push(c); cb(); }, final(cb) { toClient.push(null); cb(); } });
    toClient = new Duplex({ read() {}, write(c, _e, cb) { toServer.push(c); cb(); }, final(cb) { toServer.push(null); cb(); } });
    const { createResponder } = await import('./responder.ts');
    const { RawConnection } = await import('../client/raw-connection.ts');
    const responder = createResponder({ handler: echoHandler, webServerAddrs: null });
    responder.serveConnection(toServer);
    const conn = new RawConnection(toClient);
    await conn.sendBytes(requestBytes({ id: 9, params: { EXIT: '5' }, stdin: 'mem' }));
    const r = await collect(conn, 9);
    expect(r.stdout.toString()).toBe('role=responder keep=false id=9\nmem');
    expect(r.appStatus).toBe(5);
    await responder.close({ graceMs: 0 });
  });

  it('lets an active request finish when closing gracefully', async () => {
    const s = await start();
    const conn = await s.connect();
    await conn.sendBytes(requestBytes({ id: 1, flags: FCGI_KEEP_CONN, params: { SLEEP: '100', EXIT: '3' } }));
    await new Promise((r) => setTimeout(r, 20));
    const closing = s.responder.close({ graceMs: 5000 });
    const r = await collect(conn, 1);
    expect(r.appStatus).toBe(3);
    expect(await waitClosed(conn)).toBe('end'); // closed once idle, although FCGI_KEEP_CONN was set
    await closing;
  });

  it('answers a flood of FCGI_GET_VALUES that it reads only as fast as the answers are taken', async () => {
    const s = await start();
    const conn = await s.connect();
    const count = 30_000;
    const one = getValuesRecord(['FCGI_MAX_CONNS', 'FCGI_MAX_REQS', 'FCGI_MPXS_CONNS']);
    const sending = conn.sendBytes(concatBytes(Array.from({ length: count }, () => one)));
    let answers = 0;
    while (answers < count) {
      const e = await conn.next(5000);
      if (e.kind !== 'record') break;
      if (e.record.type === FCGI_GET_VALUES_RESULT) answers++;
    }
    await sending;
    expect(answers).toBe(count);
  });
});
