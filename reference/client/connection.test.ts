import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FCGI_ABORT_REQUEST,
  FCGI_BEGIN_REQUEST,
  FCGI_DATA,
  FCGI_FILTER,
  FCGI_KEEP_CONN,
  FCGI_MAX_CONNS,
  FCGI_MPXS_CONNS,
  FCGI_PARAMS,
  FCGI_STDIN,
  FCGI_UNKNOWN_ROLE,
} from '../../spec/constants.ts';
import { RecordDecoder } from '../codec/record.ts';
import { ClientConnection, ClientError, type TrafficEvent } from './index.ts';
import { MiniResponder, deferred, duplexPair, type MiniOptions } from './__fixtures__/mini-responder.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A client connection wired to a mini responder over an in-memory pair. */
function pairWith(options: MiniOptions = {}, clientOptions: ConstructorParameters<typeof ClientConnection>[1] = {}): { app: MiniResponder; conn: ClientConnection } {
  const app = new MiniResponder(options);
  const [a, b] = duplexPair();
  app.serve(b);
  const conn = new ClientConnection(a, clientOptions);
  cleanups.push(() => conn.destroy());
  return { app, conn };
}

describe('getValues', () => {
  it('returns the FCGI_GET_VALUES_RESULT as a map, leaving out unknown names', async () => {
    const { conn } = pairWith({ values: { FCGI_MPXS_CONNS: '1', FCGI_MAX_CONNS: '10' } });
    const values = await conn.getValues([FCGI_MPXS_CONNS, FCGI_MAX_CONNS, 'NOT_A_VARIABLE']);
    expect([...values]).toEqual([
      [FCGI_MPXS_CONNS, '1'],
      [FCGI_MAX_CONNS, '10'],
    ]);
  });

  it('surfaces an FCGI_UNKNOWN_TYPE answer as E_UNKNOWN_TYPE, and as a typed reply from sendManagement', async () => {
    const { conn } = pairWith({ values: 'unknown-type' });
    const err = await conn.getValues([FCGI_MPXS_CONNS]).catch((e: unknown) => e);
    expect(ClientError.is(err, 'E_UNKNOWN_TYPE')).toBe(true);
    expect((err as ClientError).unknownType).toBe(9);
    const reply = await conn.sendManagement(200);
    expect(reply.kind).toBe('unknown-type');
    expect(reply.kind === 'unknown-type' && reply.type).toBe(200);
  });

  it('times out when the application does not answer, and keeps later answers in order', async () => {
    const { conn } = pairWith({ values: 'silent' });
    const err = await conn.getValues([FCGI_MPXS_CONNS], { timeoutMs: 20 }).catch((e: unknown) => e);
    expect(ClientError.is(err, 'E_TIMEOUT')).toBe(true);
  });
});

describe('request', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  const handler: MiniOptions['handler'] = (req, reply) => {
    reply.stderr(`warning for ${req.params.get('NAME')}`);
    reply.stdout(`Status: 201 Created\r\nContent-Type: text/plain\r\n\r\nhello ${req.params.get('NAME')}, ${req.stdin.length} bytes`);
    reply.end(7);
  };

  async function check(conn: ClientConnection): Promise<void> {
    const res = await conn.request({ params: { NAME: 'wörld' }, stdin: 'abc' });
    expect(res.requestId).toBe(1);
    expect(res.appStatus).toBe(7);
    expect(res.protocolStatus).toBe(0);
    expect(res.stderr.toString()).toBe('warning for wörld');
    expect(res.cgi?.status).toBe(201);
    expect(res.cgi?.headers).toEqual([
      ['Status', '201 Created'],
      ['Content-Type', 'text/plain'],
    ]);
    expect(Buffer.from(res.cgi!.body).toString()).toBe('hello wörld, 3 bytes');
    expect(res.anomalies).toEqual([]);
  }

  it('works over TCP', async () => {
    const app = new MiniResponder({ handler });
    const address = await app.listen();
    cleanups.push(() => app.close());
    const conn = await ClientConnection.connect(address);
    cleanups.push(() => conn.destroy());
    await check(conn);
  });

  it('works over a Unix socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fcgispec-client-'));
    dirs.push(dir);
    const app = new MiniResponder({ handler });
    const address = await app.listen(join(dir, 'app.sock'));
    cleanups.push(() => app.close());
    expect(address.startsWith('unix:')).toBe(true);
    const conn = await ClientConnection.connect(address);
    cleanups.push(() => conn.destroy());
    await check(conn);
  });

  it('works over an in-memory Duplex pair', async () => {
    const { conn } = pairWith({ handler });
    await check(conn);
  });

  it('sends BEGIN_REQUEST, PARAMS and STDIN padded to 8 bytes, with FCGI_KEEP_CONN by default', async () => {
    const { app, conn } = pairWith();
    await conn.request({ params: { A: 'b' }, stdin: 'xyz' });
    const types = app.received.map((r) => [r.type, r.contentLength]);
    expect(types).toEqual([
      [FCGI_BEGIN_REQUEST, 8],
      [FCGI_PARAMS, 4],
      [FCGI_PARAMS, 0],
      [FCGI_STDIN, 3],
      [FCGI_STDIN, 0],
    ]);
    for (const r of app.received) expect((r.contentLength + r.paddingLength) % 8).toBe(0);
    const flags: number[] = [];
    const app2 = new MiniResponder({ handler: (req, reply) => (flags.push(req.flags), reply.end()) });
    const [a, b] = duplexPair();
    app2.serve(b);
    const conn2 = new ClientConnection(a);
    cleanups.push(() => conn2.destroy());
    await conn2.request({});
    await conn2.request({});
    expect(flags).toEqual([FCGI_KEEP_CONN, FCGI_KEEP_CONN]);
  });

  it('sends FCGI_DATA after stdin for the Filter role, empty when none is given', async () => {
    const seen: string[] = [];
    const { app, conn } = pairWith({ handler: (req, reply) => (seen.push(`${req.role}:${req.stdin}:${req.data}`), reply.stdout('A: b\n\n'), reply.end()) });
    await conn.request({ role: 'filter', stdin: 'in', data: 'file contents' });
    await conn.request({ role: 'filter' });
    expect(seen).toEqual([`${FCGI_FILTER}:in:file contents`, `${FCGI_FILTER}::`]);
    expect(app.received.filter((r) => r.type === FCGI_DATA).map((r) => r.contentLength)).toEqual([13, 0, 0]);
  });

  it('rejects a non-complete protocolStatus with E_REJECTED, carrying the result', async () => {
    const { conn } = pairWith({ handler: (_req, reply) => reply.end(3, FCGI_UNKNOWN_ROLE) });
    const err = await conn.request({ role: 77 }).catch((e: unknown) => e);
    expect(ClientError.is(err, 'E_REJECTED')).toBe(true);
    const e = err as ClientError;
    expect([e.protocolStatus, e.appStatus, e.requestId, e.result?.protocolStatus]).toEqual([FCGI_UNKNOWN_ROLE, 3, 1, FCGI_UNKNOWN_ROLE]);
    expect(e.message).toContain('FCGI_UNKNOWN_ROLE');
  });

  it('reports stdout that is not a CGI response in cgiError, keeping the bytes', async () => {
    const { conn } = pairWith({ handler: (_req, reply) => (reply.stdout('just text'), reply.end()) });
    const res = await conn.request();
    expect(res.cgi).toBeUndefined();
    expect(res.cgiError?.kind).toBe('no-header-end');
    expect(res.stdout.toString()).toBe('just text');
  });
});

describe('multiplexing and request ids', () => {
  it('runs 16 concurrent requests over one connection, each getting its own output', async () => {
    // Answers in reverse order of arrival, so any mix-up of ids shows.
    const gates: (() => void)[] = [];
    const { app, conn } = pairWith(
      {
        handler: async (req, reply) => {
          const gate = deferred();
          gates.push(gate.resolve);
          if (gates.length === 16) for (const g of gates.reverse()) g();
          await gate.promise;
          reply.stdout(`X-Id: ${req.id}\n\nbody of ${req.params.get('N')} `);
          reply.stdout(req.stdin);
          reply.end(Number(req.params.get('N')));
        },
      },
      { maxConcurrent: 16 },
    );
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => conn.request({ params: { N: String(i) }, stdin: `stdin ${i}` })));
    results.forEach((res, i) => {
      expect(res.appStatus).toBe(i);
      expect(Buffer.from(res.cgi!.body).toString()).toBe(`body of ${i} stdin ${i}`);
    });
    expect(results.map((r) => r.requestId).sort((x, y) => x - y)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    expect(app.totalConnections).toBe(1);
  });

  it('allocates the smallest free id and reuses freed ones', async () => {
    const release = new Map<string, () => void>();
    const { conn } = pairWith(
      {
        handler: async (req, reply) => {
          const gate = deferred();
          release.set(req.params.get('N')!, gate.resolve);
          await gate.promise;
          reply.end();
        },
      },
      { maxConcurrent: 3 },
    );
    const ids = new Map<string, number>();
    const send = (n: string): Promise<void> => conn.request({ params: { N: n } }).then((r) => void ids.set(n, r.requestId));
    const waitFor = async (n: string): Promise<void> => {
      while (!release.has(n)) await new Promise((r) => setImmediate(r));
    };
    const a = send('a');
    const b = send('b');
    const c = send('c');
    await Promise.all([waitFor('a'), waitFor('b'), waitFor('c')]);
    release.get('b')!();
    await b;
    const d = send('d'); // takes 2, the smallest free id
    await waitFor('d');
    release.get('a')!();
    await a;
    const e = send('e'); // takes 1
    await waitFor('e');
    for (const n of ['c', 'd', 'e']) release.get(n)!();
    await Promise.all([c, d, e]);
    expect(Object.fromEntries(ids)).toEqual({ a: 1, b: 2, c: 3, d: 2, e: 1 });
  });

  it('queues requests beyond maxConcurrent instead of sending them', async () => {
    const { app, conn } = pairWith({}, { maxConcurrent: 1 });
    const results = await Promise.all([conn.request(), conn.request(), conn.request()]);
    expect(results.map((r) => r.requestId)).toEqual([1, 1, 1]);
    expect(app.received.filter((r) => r.type === FCGI_BEGIN_REQUEST)).toHaveLength(3);
  });
});

describe('abort', () => {
  it('sends FCGI_ABORT_REQUEST and settles with the application’s FCGI_END_REQUEST as E_ABORTED', async () => {
    const started = deferred();
    const { app, conn } = pairWith({
      handler: async (req, reply) => {
        if (!req.params.has('HANG')) return reply.end();
        reply.stdout('Partial: yes\n\n');
        started.resolve();
        await reply.aborted;
      },
    });
    const ac = new AbortController();
    const pending = conn.request({ signal: ac.signal, params: { HANG: '1' } });
    await started.promise;
    ac.abort(new Error('client went away'));
    const err = await pending.catch((e: unknown) => e);
    expect(ClientError.is(err, 'E_ABORTED')).toBe(true);
    const e = err as ClientError;
    expect(e.end?.appStatus).toBe(1);
    expect(e.result?.stdout.toString()).toBe('Partial: yes\n\n');
    expect((e.cause as Error).message).toBe('client went away');
    expect(app.received.some((r) => r.type === FCGI_ABORT_REQUEST && r.requestId === 1)).toBe(true);
    // The id is free again and the connection still works.
    const next = await conn.request();
    expect(next.requestId).toBe(1);
  });

  it('times out with a clear error when the application ignores the abort, and retires the connection', async () => {
    const started = deferred();
    const { conn } = pairWith({ onAbort: 'ignore', handler: () => started.resolve() }, { abortTimeoutMs: 30 });
    const ac = new AbortController();
    const pending = conn.request({ signal: ac.signal });
    await started.promise;
    ac.abort();
    const err = await pending.catch((e: unknown) => e);
    expect(ClientError.is(err, 'E_TIMEOUT')).toBe(true);
    expect((err as Error).message).toMatch(/no FCGI_END_REQUEST within 30 ms after FCGI_ABORT_REQUEST/);
    await conn.whenClosed();
    const after = await conn.request().catch((e: unknown) => e);
    expect(ClientError.is(after, 'E_CLOSED')).toBe(true);
  });

  it('fails at once, sending nothing, when the signal is already aborted', async () => {
    const { app, conn } = pairWith();
    const err = await conn.request({ signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(ClientError.is(err, 'E_ABORTED')).toBe(true);
    expect(app.received).toEqual([]);
  });

  it('times out a silent request with E_TIMEOUT and aborts it on the wire', async () => {
    const { app, conn } = pairWith({ handler: () => {} }, { timeoutMs: 20 });
    const err = await conn.request().catch((e: unknown) => e);
    expect(ClientError.is(err, 'E_TIMEOUT')).toBe(true);
    await new Promise((r) => setImmediate(r));
    expect(app.received.at(-1)?.type).toBe(FCGI_ABORT_REQUEST);
  });
});

describe('keep-conn off', () => {
  it('treats the application’s close after FCGI_END_REQUEST as normal, and takes no more requests', async () => {
    const { conn } = pairWith();
    const res = await conn.request({ keepConn: false });
    expect(res.protocolStatus).toBe(0);
    await conn.whenClosed();
    const err = await conn.request().catch((e: unknown) => e);
    expect(ClientError.is(err, 'E_CLOSED')).toBe(true);
  });
});

describe('streaming', () => {
  it('streams several MiB of stdin from an async iterable, holding back while the application does not read', async () => {
    const total = 8 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 31) & 0xff;
    let produced = 0;
    async function* source(): AsyncGenerator<Uint8Array> {
      while (produced < total) {
        produced += chunk.length;
        yield chunk;
      }
    }
    const app = new MiniResponder({
      handler: (req, reply) => {
        reply.stdout(`Content-Type: text/plain\n\n${req.stdin.length} ${createHash('sha256').update(req.stdin).digest('hex')}`);
        reply.end();
      },
    });
    const [a, b] = duplexPair();
    app.serve(b);
    b.pause(); // the application reads nothing for now
    const conn = new ClientConnection(a);
    cleanups.push(() => conn.destroy());
    const pending = conn.request({ stdin: source() });
    // Let the writer run until backpressure stops it.
    let last = -1;
    while (last !== produced) {
      last = produced;
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    }
    expect(produced).toBeLessThan(1024 * 1024);
    b.resume();
    const res = await pending;
    const expected = createHash('sha256');
    for (let at = 0; at < total; at += chunk.length) expected.update(chunk);
    expect(Buffer.from(res.cgi!.body).toString()).toBe(`${total} ${expected.digest('hex')}`);
  });

  it('delivers stdout as it arrives, before FCGI_END_REQUEST', async () => {
    const more = deferred();
    const { conn } = pairWith({
      handler: async (_req, reply) => {
        reply.stdout('Content-Type: text/plain\n\nfirst part;');
        await more.promise;
        reply.stdout('second part');
        reply.stderr('note');
        reply.end();
      },
    });
    const h = conn.stream({ params: { A: '1' } });
    expect(await h.requestId).toBe(1);
    const first = await new Promise<Buffer>((resolve) => h.stdout.once('data', resolve));
    expect(first.toString()).toContain('first part;');
    more.resolve();
    const rest: Buffer[] = [];
    for await (const c of h.stdout) rest.push(c as Buffer);
    let err = '';
    for await (const c of h.stderr) err += String(c);
    const end = await h.ended;
    expect(Buffer.concat(rest).toString()).toBe('second part');
    expect(err).toBe('note');
    expect([end.protocolStatus, end.stdoutBytes, end.stderrBytes]).toEqual([0, 'Content-Type: text/plain\n\nfirst part;second part'.length, 4]);
  });

  it('stops reading while a stream consumer is full, then catches up without losing bytes', async () => {
    const size = 4 * 1024 * 1024;
    const { conn } = pairWith({
      handler: (_req, reply) => {
        reply.stdout('A: b\n\n');
        for (let at = 0; at < size; at += 65_000) reply.stdout(Buffer.alloc(Math.min(65_000, size - at), 0x61));
        reply.end();
      },
    });
    const h = conn.stream();
    h.stderr.resume();
    // Read slowly: one chunk per turn of the event loop.
    let got = 0;
    for await (const c of h.stdout) {
      got += (c as Buffer).length;
      await new Promise((r) => setImmediate(r));
    }
    await h.ended;
    expect(got).toBe(size + 6);
  });

  it('reports the wire traffic to an observer and in the transcript', async () => {
    const events: TrafficEvent[] = [];
    const { conn } = pairWith({}, { transcript: true, onTraffic: (e) => events.push(e) });
    await conn.request({ keepConn: false });
    await conn.whenClosed();
    const sent = new RecordDecoder().push(Buffer.concat(events.flatMap((e) => (e.dir === 'sent' ? [e.bytes] : []))));
    expect(sent.map((r) => r.type)).toEqual([FCGI_BEGIN_REQUEST, FCGI_PARAMS, FCGI_STDIN]);
    expect(events.filter((e) => e.dir === 'received').length).toBe(3); // STDOUT, empty STDOUT, END_REQUEST
    expect(events.at(-1)?.dir).toBe('closed');
    expect(conn.transcript.map((t) => t.dir)).toContain('received');
    expect(conn.transcript.at(-1)?.dir).toBe('closed');
  });
});
