import { createServer } from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { FCGI_BEGIN_REQUEST, FCGI_CANT_MPX_CONN, FCGI_GET_VALUES, FCGI_KEEP_CONN, FCGI_MAX_CONNS, FCGI_MAX_REQS, FCGI_MPXS_CONNS } from '../../spec/constants.ts';
import { Client, ClientError } from './index.ts';
import { MiniResponder, deferred, duplexPair, type MiniOptions } from './__fixtures__/mini-responder.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A client whose connections are in-memory pairs served by one mini responder. */
function pooled(app: MiniResponder, options: ConstructorParameters<typeof Client>[1] = {}): Client {
  const client = new Client(() => {
    const [a, b] = duplexPair();
    app.serve(b);
    return a;
  }, options);
  cleanups.push(() => client.destroy());
  return client;
}

/** A handler that holds every request until `release()`; `held` counts requests waiting. */
function holding(): { options: MiniOptions; release: () => void; held: () => number } {
  let gate = deferred();
  let held = 0;
  return {
    options: {
      handler: async (req, reply) => {
        held++;
        await gate.promise;
        reply.stdout(`A: b\n\n${req.params.get('N')}`);
        reply.end();
      },
    },
    release: () => {
      gate.resolve();
      gate = deferred();
    },
    held: () => held,
  };
}

/** Waits (a few event-loop turns, then short sleeps, 3 s at most) until `condition` holds. */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 3000;
  for (let i = 0; !condition() && Date.now() < deadline; i++) await new Promise((r) => (i < 100 ? setImmediate(r) : setTimeout(r, 2)));
  expect(condition()).toBe(true);
}

describe('Client pool', () => {
  it('never opens more than maxConnections, and every request gets its own answer', async () => {
    const h = holding();
    const app = new MiniResponder({ ...h.options, mpxs: false });
    const client = pooled(app, { maxConnections: 3, multiplex: false });
    const pending = Array.from({ length: 10 }, (_, i) => client.request({ params: { N: String(i) } }));
    await until(() => h.held() === 3);
    expect(client.connections).toBe(3);
    expect(client.queuedRequests).toBe(7);
    for (let round = 0; round < 4; round++) h.release(), await new Promise((r) => setImmediate(r));
    const results = await Promise.all(pending);
    expect(results.map((r) => Buffer.from(r.cgi!.body).toString())).toEqual(Array.from({ length: 10 }, (_, i) => String(i)));
    expect(app.peakConnections).toBeLessThanOrEqual(3);
    expect(client.peakConnections).toBe(3);
    expect(app.totalConnections).toBe(3); // kept and reused
  });

  it('opens a new connection per request when keepConn is off, and the application closes each', async () => {
    const app = new MiniResponder();
    const client = pooled(app, { keepConn: false });
    for (let i = 0; i < 4; i++) await client.request();
    expect(app.totalConnections).toBe(4);
    const begins = app.received.filter((r) => r.type === FCGI_BEGIN_REQUEST);
    expect(begins.map((r) => r.conn)).toEqual([0, 1, 2, 3]);
    await until(() => app.openConnections === 0);
    expect(app.received.some((r) => r.type === FCGI_GET_VALUES)).toBe(false);
  });

  it('keeps one connection for sequential requests with keepConn on', async () => {
    const flags: number[] = [];
    const app = new MiniResponder({ handler: (req, reply) => (flags.push(req.flags), reply.end()) });
    const client = pooled(app, { multiplex: false });
    for (let i = 0; i < 4; i++) await client.request();
    expect(app.totalConnections).toBe(1);
    expect(flags).toEqual([FCGI_KEEP_CONN, FCGI_KEEP_CONN, FCGI_KEEP_CONN, FCGI_KEEP_CONN]);
  });

  it('multiplexes over one connection once the application claims FCGI_MPXS_CONNS=1', async () => {
    const h = holding();
    const app = new MiniResponder({ ...h.options, values: { [FCGI_MPXS_CONNS]: '1', [FCGI_MAX_REQS]: '5', [FCGI_MAX_CONNS]: '2' } });
    const client = pooled(app, { maxConnections: 4 });
    const first = client.request({ params: { N: 'first' } });
    await until(() => h.held() === 1);
    h.release();
    await first;
    expect(client.capabilities).toEqual({ mpxsConns: true, maxConns: 2, maxReqs: 5 });
    expect(client.requestsPerConnection).toBe(5);
    const pending = Array.from({ length: 10 }, (_, i) => client.request({ params: { N: String(i) } }));
    await until(() => h.held() === 11);
    // 5 per connection (FCGI_MAX_REQS), at most 2 connections (FCGI_MAX_CONNS).
    expect(app.totalConnections).toBe(2);
    h.release();
    expect((await Promise.all(pending)).map((r) => r.requestId).sort((a, b) => a - b)).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
  });

  it('sends one request per connection when the application does not multiplex', async () => {
    const h = holding();
    const app = new MiniResponder({ ...h.options, values: { [FCGI_MPXS_CONNS]: '0' } });
    const client = pooled(app, { maxConnections: 4 });
    const first = client.request();
    await until(() => client.capabilities !== undefined);
    const pending = [first, ...Array.from({ length: 3 }, () => client.request())];
    await until(() => h.held() === 4);
    expect(app.totalConnections).toBe(4);
    h.release();
    await Promise.all(pending);
  });

  it('falls back to one request per connection after FCGI_CANT_MPX_CONN', async () => {
    const h = holding();
    const app = new MiniResponder({ ...h.options, mpxs: false });
    const client = pooled(app, { maxConnections: 1, multiplex: true });
    const a = client.request({ params: { N: 'a' } });
    const b = client.request({ params: { N: 'b' } });
    const err = await b.catch((e: unknown) => e);
    expect(ClientError.is(err, 'E_REJECTED')).toBe(true);
    expect((err as ClientError).protocolStatus).toBe(FCGI_CANT_MPX_CONN);
    expect(client.requestsPerConnection).toBe(1);
    const c = client.request({ params: { N: 'c' } });
    h.release();
    await a;
    await until(() => h.held() === 2);
    h.release();
    expect(Buffer.from((await c).cgi!.body).toString()).toBe('c');
  });

  it('sends a request again, once, when a reused connection closes under it before any answer', async () => {
    // An application that drops its kept connection on the second request: the stale keep-alive race.
    const app = new MiniResponder({
      handler: (req, reply) => {
        if (req.conn === 0 && req.params.get('N') !== 'first') return reply.drop();
        reply.stdout(`A: b\n\n${req.params.get('N')}@${req.conn}`);
        reply.end();
      },
    });
    const client = pooled(app, { maxConnections: 1, multiplex: false });
    await client.request({ params: { N: 'first' } });
    const res = await client.request({ params: { N: 'again', REQUEST_METHOD: 'GET' } });
    expect(Buffer.from(res.cgi!.body).toString()).toBe('again@1');
    expect(app.totalConnections).toBe(2);
  });

  it('does not resend a non-idempotent or first-use request', async () => {
    const app = new MiniResponder({
      handler: (req, reply) => {
        if (req.params.get('N') !== 'first') return reply.drop();
        reply.end();
      },
    });
    const client = pooled(app, { maxConnections: 1, multiplex: false });
    const first = await client.request({ params: { N: 'x', REQUEST_METHOD: 'GET' } }).catch((e: unknown) => e);
    expect(ClientError.is(first, 'E_CLOSED')).toBe(true); // a fresh connection: the application saw it and dropped it
    await client.request({ params: { N: 'first' } });
    const post = await client.request({ params: { N: 'y', REQUEST_METHOD: 'POST' }, stdin: 'body' }).catch((e: unknown) => e);
    expect(ClientError.is(post, 'E_CLOSED')).toBe(true);
    expect(app.totalConnections).toBe(2);
  });

  it('fails a request waiting for a connection when its signal aborts, sending nothing', async () => {
    const h = holding();
    const app = new MiniResponder({ ...h.options, mpxs: false });
    const client = pooled(app, { maxConnections: 1, multiplex: false });
    const a = client.request({ params: { N: 'a' } });
    const ac = new AbortController();
    const b = client.request({ params: { N: 'b' }, signal: ac.signal });
    await until(() => h.held() === 1);
    ac.abort();
    expect(ClientError.is(await b.catch((e: unknown) => e), 'E_ABORTED')).toBe(true);
    h.release();
    await a;
    expect(app.received.filter((r) => r.type === FCGI_BEGIN_REQUEST)).toHaveLength(1);
  });

  it('answers getValues over a pooled connection', async () => {
    const app = new MiniResponder({ values: { [FCGI_MAX_CONNS]: '7' } });
    const client = pooled(app, { multiplex: false });
    expect(await client.getValues([FCGI_MAX_CONNS])).toEqual(new Map([[FCGI_MAX_CONNS, '7']]));
  });

  it('works over TCP by address, buffered and streaming', async () => {
    const app = new MiniResponder();
    const address = await app.listen();
    cleanups.push(() => app.close());
    const client = new Client(address, { multiplex: false });
    cleanups.push(() => client.destroy());
    const res = await client.request({ stdin: 'abc' });
    expect(Buffer.from(res.cgi!.body).toString()).toBe('id=1 stdin=3');
    const h = client.stream({ stdin: Readable.from([Buffer.from('de'), Buffer.from('f')]) });
    h.stderr.resume();
    let body = '';
    for await (const c of h.stdout) body += String(c);
    expect(body).toBe('Content-Type: text/plain\r\n\r\nid=1 stdin=3');
    expect((await h.ended).requestId).toBe(await h.requestId);
    expect(app.totalConnections).toBe(1);
  });

  it('times out a transport factory that never delivers', async () => {
    const client = new Client(() => new Promise<never>(() => {}), { connectTimeoutMs: 20 });
    const err = await client.request().catch((e: unknown) => e);
    expect(ClientError.is(err, 'E_CONNECT')).toBe(true);
    expect((err as Error).message).toMatch(/no transport within 20 ms/);
  });

  it('fails with E_CONNECT when nothing listens', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((r) => server.close(() => r()));
    const client = new Client(`127.0.0.1:${port}`, { connectTimeoutMs: 2000 });
    cleanups.push(() => client.destroy());
    const err = await client.request().catch((e: unknown) => e);
    expect(ClientError.is(err, 'E_CONNECT')).toBe(true);
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
  });

  it('rejects a malformed address with E_USAGE', async () => {
    const client = new Client('not an address');
    const err = await client.request().catch((e: unknown) => e);
    expect(ClientError.is(err, 'E_USAGE')).toBe(true);
  });

  it('close() lets running and queued requests finish, then closes every connection', async () => {
    const h = holding();
    const app = new MiniResponder({ ...h.options, mpxs: false });
    const client = pooled(app, { maxConnections: 2, multiplex: false });
    const pending = Array.from({ length: 4 }, (_, i) => client.request({ params: { N: String(i) } }));
    await until(() => h.held() === 2);
    const closed = client.close();
    expect(ClientError.is(await client.request().catch((e: unknown) => e), 'E_CLOSED')).toBe(true);
    h.release();
    await until(() => h.held() === 4);
    h.release();
    await Promise.all(pending);
    await closed;
    await until(() => app.openConnections === 0);
    expect(client.connections).toBe(0);
  });

  it('closes a kept connection after idleTimeoutMs', async () => {
    const app = new MiniResponder();
    const client = pooled(app, { idleTimeoutMs: 10, multiplex: false });
    await client.request();
    expect(app.openConnections).toBe(1);
    await until(() => app.openConnections === 0);
    await client.request();
    expect(app.totalConnections).toBe(2);
  });
});
