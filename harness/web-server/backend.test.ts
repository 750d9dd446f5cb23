// The instrumented backend, driven by a raw FastCGI client playing the web server: request traces and their
// tags, validator findings with the scenario they belong to, answers of the bound scenario, raw writes in order,
// taking a request over, closing leftovers, and the bounded log.
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAddress } from '../../reference/address.ts';
import { encodeBeginRequestBody, encodeEndRequestBody } from '../../reference/codec/bodies.ts';
import { encodeNameValuePairs } from '../../reference/codec/name-value.ts';
import { encodeRecord, encodeStream, type DecodedRecord } from '../../reference/codec/record.ts';
import { RawConnection } from '../../reference/client/raw-connection.ts';
import {
  FCGI_ABORT_REQUEST,
  FCGI_BEGIN_REQUEST,
  FCGI_END_REQUEST,
  FCGI_GET_VALUES,
  FCGI_KEEP_CONN,
  FCGI_OVERLOADED,
  FCGI_PARAMS,
  FCGI_RESPONDER,
  FCGI_STDIN,
  FCGI_STDOUT,
} from '../../spec/constants.ts';
import type { AnswerHandler } from '../../suites/web-server/define.ts';
import { LOG_HEAD_LINES, LOG_TAIL_LINES, findTag, startBackend, type Backend, type Binding } from './backend.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function backend(listen = 'tcp:127.0.0.1:0'): Promise<Backend> {
  const b = await startBackend({ listen, stdinWaitMs: 500 });
  cleanups.push(() => b.close());
  return b;
}

async function connect(b: Backend): Promise<RawConnection> {
  const raw = await RawConnection.connect(parseAddress(b.address));
  cleanups.push(() => raw.destroy());
  return raw;
}

function request(id: number, uri: string, stdin: Uint8Array = new Uint8Array(0), flags = FCGI_KEEP_CONN): Uint8Array {
  return Buffer.concat([
    encodeRecord({ type: FCGI_BEGIN_REQUEST, requestId: id, content: encodeBeginRequestBody({ role: FCGI_RESPONDER, flags }) }),
    encodeStream(FCGI_PARAMS, id, encodeNameValuePairs({ REQUEST_METHOD: 'GET', REQUEST_URI: uri })),
    encodeStream(FCGI_STDIN, id, stdin),
  ]);
}

// Records until FCGI_END_REQUEST for `id` (or the close / a timeout).
async function response(raw: RawConnection, id: number): Promise<DecodedRecord[]> {
  const out: DecodedRecord[] = [];
  for (;;) {
    const e = await raw.next(3000);
    if (e.kind !== 'record') return out;
    out.push(e.record);
    if (e.record.type === FCGI_END_REQUEST && e.record.requestId === id) return out;
  }
}

const stdoutText = (records: readonly DecodedRecord[]): string => Buffer.concat(records.filter((r) => r.type === FCGI_STDOUT).map((r) => r.content)).toString('latin1');

function bind(b: Backend, scenario: string, answer: AnswerHandler, extra: Partial<Binding> = {}): { changes: number } {
  const state = { changes: 0 };
  b.bind({ scenario, faults: [], answer, onChange: () => void state.changes++, ...extra });
  return state;
}

describe('findTag', () => {
  it('finds /fcgispec/<id>/<n> in the path params, REQUEST_URI first', () => {
    const params: Record<string, string> = { REQUEST_URI: '/app/fcgispec/request.get.simple/3?x=1', SCRIPT_NAME: '/fcgispec/other.one/9' };
    expect(findTag((n) => params[n])).toEqual({ scenario: 'request.get.simple', n: 3 });
    expect(findTag((n) => ({ SCRIPT_FILENAME: '/srv/www/fcgispec/a.b/12' })[n])).toEqual({ scenario: 'a.b', n: 12 });
    expect(findTag((n) => ({ REQUEST_URI: '/fcgispec/a.b/1\u0000' })[n])).toEqual({ scenario: 'a.b', n: 1 });
    expect(findTag((n) => ({ REQUEST_URI: '/fcgispec/a.b/x' })[n])).toBeUndefined();
    expect(findTag((n) => ({ REQUEST_URI: '/fcgispec/a.b/12345678901' })[n])).toBeUndefined();
    expect(findTag(() => undefined)).toBeUndefined();
  });
});

describe('the backend', () => {
  it('traces a tagged request, hands it to the bound scenario and logs both directions', async () => {
    const b = await backend();
    const state = bind(b, 'x.answer', async (ex) => {
      expect(await ex.drainStdin()).toBe(true);
      await ex.writeCgi({ status: '201 Created', headers: [['Content-Type', 'text/plain']], body: `got ${ex.trace.stdinBytes}` });
    });
    const raw = await connect(b);
    await raw.sendBytes(request(1, '/fcgispec/x.answer/1', Buffer.from('hello')));
    const records = await response(raw, 1);
    expect(stdoutText(records)).toBe('Status: 201 Created\r\nContent-Type: text/plain\r\n\r\ngot 5');
    const [trace] = b.boundRequests();
    expect(trace).toMatchObject({ conn: 0, requestId: 1, role: FCGI_RESPONDER, keepConn: true, activeOnConnection: 1, tag: { scenario: 'x.answer', n: 1 }, stdinBytes: 5, stdinEnded: true, paramsRecords: 2 });
    expect(Buffer.from(trace!.stdin).toString()).toBe('hello');
    expect(trace!.ending).toMatchObject({ kind: 'end-request', protocolStatus: 0, appStatus: 0 });
    expect(trace!.param('REQUEST_METHOD')).toBe('GET');
    expect(state.changes).toBeGreaterThan(0);
    const log = b.takeLog().lines;
    const types = (dir: string): string[] => log.filter((l) => l.dir === dir).flatMap((l) => l.records ?? []).map((r) => r.typeName);
    expect(types('received')).toEqual(['FCGI_BEGIN_REQUEST', 'FCGI_PARAMS', 'FCGI_PARAMS', 'FCGI_STDIN', 'FCGI_STDIN']);
    expect(types('sent')).toEqual(['FCGI_STDOUT', 'FCGI_STDOUT', 'FCGI_END_REQUEST']);
    expect(b.takeFindings()).toEqual([]);
  });

  it('gives requests of no bound scenario the default answer and keeps them as stray', async () => {
    const b = await backend();
    bind(b, 'x.bound', async () => {
      throw new Error('not for this scenario');
    });
    const raw = await connect(b);
    await raw.sendBytes(request(1, '/somewhere/else'));
    expect(stdoutText(await response(raw, 1))).toMatch(/^Content-Type: text\/plain\r\n.*\r\n\r\nfcgispec backend: untagged request\n$/s);
    expect(b.strayRequests()).toHaveLength(1);
    expect(b.takeLog().lines.some((l) => l.dir === 'note' && /without a scenario tag .* while x\.bound runs/.test(l.text ?? ''))).toBe(true);
  });

  it('judges what the web server sends and files each finding under the scenario bound then', async () => {
    const b = await backend();
    bind(b, 'x.findings', async (ex) => {
      await ex.drainStdin();
      await ex.writeCgi({ headers: [['Content-Type', 'text/plain']] });
    });
    const raw = await connect(b);
    // Reserved byte set on BEGIN_REQUEST (should), and a record for a request that never began (must).
    await raw.sendBytes(Buffer.concat([encodeRecord({ type: FCGI_STDIN, requestId: 7 }), request(1, '/fcgispec/x.findings/1').map((v, i) => (i === 7 ? 0x11 : v))]));
    await response(raw, 1);
    const findings = b.takeFindings();
    expect(findings.map((f) => [f.finding.requirement, f.scenario, f.conn])).toEqual([
      ['FCGI-5.1-begin-request-starts', 'x.findings', 0],
      ['FCGI-3.3-reserved-zero', 'x.findings', 0],
    ]);
    expect(b.takeFindings()).toEqual([]);
  });

  it('knows ids end with its own FCGI_END_REQUEST: a new request on the id is fine, one while active is not', async () => {
    const b = await backend();
    bind(b, 'x.ids', async (ex) => {
      await ex.drainStdin();
      await ex.writeCgi({ headers: [['Content-Type', 'text/plain']], body: String(ex.trace.tag?.n) });
    });
    const raw = await connect(b);
    await raw.sendBytes(request(1, '/fcgispec/x.ids/1'));
    await response(raw, 1);
    await raw.sendBytes(request(1, '/fcgispec/x.ids/2'));
    expect(stdoutText(await response(raw, 1))).toMatch(/2$/);
    expect(b.takeFindings()).toEqual([]);
    expect(b.boundRequests().map((t) => t.activeOnConnection)).toEqual([1, 1]);
  });

  it('writes raw records in order with the responder output, and drops the responder records of a request taken over', async () => {
    const b = await backend();
    bind(b, 'x.raw', async (ex) => {
      await ex.drainStdin();
      ex.writeRaw(encodeRecord({ type: 12, requestId: ex.trace.requestId, content: Buffer.from('first') }));
      await ex.response.write('Content-Type: text/plain\r\n\r\nsecond');
      ex.writeRaw(encodeRecord({ type: 13, requestId: 0 }));
      ex.takeOver();
      await ex.response.write('dropped');
      ex.writeRaw(encodeRecord({ type: FCGI_END_REQUEST, requestId: ex.trace.requestId, content: encodeEndRequestBody({ appStatus: 0, protocolStatus: FCGI_OVERLOADED }) }));
      ex.response.end(3);
    });
    const raw = await connect(b);
    await raw.sendBytes(request(1, '/fcgispec/x.raw/1'));
    const records = await response(raw, 1);
    expect(records.map((r) => [r.type, r.requestId])).toEqual([
      [12, 1],
      [FCGI_STDOUT, 1],
      [13, 0],
      [FCGI_END_REQUEST, 1],
    ]);
    expect(records.at(-1)!.content[4]).toBe(FCGI_OVERLOADED);
    // The responder's own FCGI_END_REQUEST (appStatus 3) never went out.
    expect((await raw.next(200)).kind).toBe('timeout');
    expect(b.boundRequests()[0]!.ending).toMatchObject({ kind: 'end-request', protocolStatus: FCGI_OVERLOADED });
  });

  it('closes after the output when asked, and the trace says the backend closed', async () => {
    const b = await backend();
    bind(b, 'x.close', async (ex) => {
      await ex.response.write('Content-Type: text/plain\r\n\r\npartial');
      ex.close();
    });
    const raw = await connect(b);
    await raw.sendBytes(request(1, '/fcgispec/x.close/1'));
    const records = await response(raw, 1);
    expect(stdoutText(records)).toMatch(/partial$/);
    expect(records.some((r) => r.type === FCGI_END_REQUEST)).toBe(false);
    expect((await raw.next(1000)).kind).toBe('closed');
    await new Promise((r) => setTimeout(r, 20));
    expect(b.boundRequests()[0]!.ending).toMatchObject({ kind: 'closed', by: 'backend' });
  });

  it('records FCGI_ABORT_REQUEST and a close by the web server, and releases held requests when the scenario ends', async () => {
    const b = await backend();
    let released = 0;
    bind(b, 'x.hold', async (ex) => {
      await new Promise<void>((resolve) => ex.signal.addEventListener('abort', () => resolve(), { once: true }));
      released++;
    });
    const raw = await connect(b);
    await raw.sendBytes(request(1, '/fcgispec/x.hold/1'));
    await raw.sendBytes(request(2, '/fcgispec/x.hold/2'));
    await new Promise((r) => setTimeout(r, 50));
    await raw.sendRecord({ type: FCGI_ABORT_REQUEST, requestId: 1 });
    await response(raw, 1);
    const [one, two] = b.boundRequests();
    expect(one!.abortAtMs).toBeGreaterThan(0);
    expect(two!.ending).toBeUndefined();
    expect(two!.activeOnConnection).toBe(2);
    const traces = b.unbind();
    await new Promise((r) => setTimeout(r, 20));
    expect(released).toBe(2);
    // Request 2 is still active at the backend: its connection is closed so that nothing carries over.
    expect(b.closeLeftovers(traces)).toBe(1);
    expect((await raw.next(1000)).kind).toBe('closed');
    const raw2 = await connect(b);
    // A request whose STDIN never ends, then the web server goes away.
    await raw2.sendBytes(request(1, '/fcgispec/x.gone/1', Buffer.from('more to come')).subarray(0, -8));
    await new Promise((r) => setTimeout(r, 50));
    raw2.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect(b.strayRequests()[0]!.ending).toMatchObject({ kind: 'closed', by: 'web-server' });
  });

  it('applies the bound scenario\'s responder faults, and keeps the management records it was sent', async () => {
    const b = await backend();
    bind(b, 'x.faults', async (ex) => ex.writeCgi({ headers: [['Content-Type', 'text/plain']], body: 'padded' }), { faults: [{ name: 'padding-255' }] });
    const raw = await connect(b);
    await raw.sendRecord({ type: FCGI_GET_VALUES, requestId: 0, content: encodeNameValuePairs({ FCGI_MPXS_CONNS: '' }) });
    await raw.sendBytes(request(1, '/fcgispec/x.faults/1'));
    const records = await response(raw, 1);
    const values = records.find((r) => r.requestId === 0)!;
    expect(Buffer.from(values.content).toString('latin1')).toContain('FCGI_MPXS_CONNS1');
    expect(records.filter((r) => r.requestId === 1).every((r) => r.paddingLength >= 248)).toBe(true);
    expect(b.managementLog()).toEqual([expect.objectContaining({ type: FCGI_GET_VALUES, conn: 0, names: ['FCGI_MPXS_CONNS'] })]);
    b.unbind();
    const raw2 = await connect(b);
    await raw2.sendBytes(request(1, '/after'));
    expect((await response(raw2, 1)).every((r) => r.paddingLength < 8)).toBe(true);
  });

  it('keeps the first and the last log lines of a long exchange, and says how many it left out', async () => {
    const b = await backend();
    bind(b, 'x.long', async (ex) => {
      await ex.drainStdin();
      await ex.writeCgi({ headers: [['Content-Type', 'text/plain']] });
    });
    const raw = await connect(b);
    const records = LOG_HEAD_LINES + LOG_TAIL_LINES + 100;
    const head = encodeRecord({ type: FCGI_BEGIN_REQUEST, requestId: 1, content: encodeBeginRequestBody({ role: FCGI_RESPONDER, flags: 0 }) });
    await raw.sendBytes(Buffer.concat([head, encodeStream(FCGI_PARAMS, 1, encodeNameValuePairs({ REQUEST_URI: '/fcgispec/x.long/1' })), encodeStream(FCGI_STDIN, 1, new Uint8Array(records), { maxContent: 1 })]));
    await response(raw, 1);
    const { lines, dropped } = b.takeLog();
    expect(dropped).toBeGreaterThanOrEqual(100);
    expect(lines.length).toBe(LOG_HEAD_LINES + LOG_TAIL_LINES + 1);
    expect(lines[LOG_HEAD_LINES]!.text).toMatch(/log lines left out here/);
    expect(lines.at(-1)!.records?.[0]?.typeName).toBe('FCGI_END_REQUEST');
  });

  it('listens on a Unix socket that web servers of other users can reach, and removes it when closed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fcgispec-backend-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const b = await startBackend({ listen: `unix:${dir}/b.sock` });
    expect(b.address).toBe(`unix:${dir}/b.sock`);
    expect(statSync(`${dir}/b.sock`).mode & 0o777).toBe(0o666);
    const raw = await RawConnection.connect(parseAddress(b.address));
    await raw.sendBytes(request(1, '/x', undefined, 0));
    expect(stdoutText(await response(raw, 1))).toMatch(/untagged request/);
    raw.destroy();
    await b.close();
    expect(existsSync(`${dir}/b.sock`)).toBe(false);
  });
});
