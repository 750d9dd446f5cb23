// The HTTP trigger against a local HTTP server: whole and cut-short responses, errors, timeouts, our own
// abort, chunked and partial uploads, and the URL below the trigger.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { sendHttp, urlUnder } from './http.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<URL> {
  const server: Server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return new URL(`http://127.0.0.1:${(server.address() as { port: number }).port}/`);
}

// A raw TCP server, to answer with bytes no HTTP library would write.
async function serveRaw(onSocket: (socket: Socket) => void): Promise<URL> {
  const server = createTcpServer(onSocket);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const sockets = new Set<Socket>();
  server.on('connection', (s) => sockets.add(s));
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return new URL(`http://127.0.0.1:${(server.address() as { port: number }).port}/`);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts)));
  });
}

describe('urlUnder', () => {
  it('puts the path below the trigger path and sets the query', () => {
    expect(urlUnder(new URL('http://h:8/'), 'fcgispec/a.b/1').href).toBe('http://h:8/fcgispec/a.b/1');
    expect(urlUnder(new URL('http://h/app'), 'fcgispec/a.b/1', 'x=1').href).toBe('http://h/app/fcgispec/a.b/1?x=1');
    expect(urlUnder(new URL('http://h/app/?old=1#f'), '/fcgispec/a.b/2').href).toBe('http://h/app/fcgispec/a.b/2');
  });
});

describe('sendHttp', () => {
  it('sends method, headers and body, and returns a whole response', async () => {
    const url = await serve(async (req, res) => {
      const body = await readBody(req);
      res.writeHead(201, { 'X-Method': req.method ?? '', 'X-Len': req.headers['content-length'] ?? '-', 'X-Probe': req.headers['x-probe'] ?? '' });
      res.end(body);
    });
    const outcome = await sendHttp({ method: 'PUT', headers: { 'X-Probe': 'yes' }, body: Buffer.from('abc') }, { url, defaultTimeoutMs: 2000 }).done;
    expect(outcome).toMatchObject({ kind: 'response', status: 201, complete: true, headers: { 'x-method': 'PUT', 'x-len': '3', 'x-probe': 'yes' } });
    expect(outcome.kind === 'response' && Buffer.from(outcome.body).toString()).toBe('abc');
  });

  it('sends a chunked upload in pieces, and a body cut short when asked', async () => {
    const seen: string[] = [];
    const url = await serve(async (req, res) => {
      seen.push(`${req.headers['transfer-encoding'] ?? 'length'}:${(await readBody(req)).length}`);
      res.end('ok');
    });
    const body = Buffer.alloc(10_000, 7);
    expect((await sendHttp({ method: 'POST', body, chunks: [1000, 7] }, { url, defaultTimeoutMs: 2000 }).done).kind).toBe('response');
    expect(seen).toEqual(['chunked:10000']);
    const partial = sendHttp({ method: 'POST', body, stopAfter: 100 }, { url, defaultTimeoutMs: 2000 });
    await new Promise((r) => setTimeout(r, 50));
    partial.abort();
    expect(await partial.done).toMatchObject({ kind: 'aborted' });
  });

  it('tells a response cut short from a whole one (chunked without the last chunk, or short of Content-Length)', async () => {
    const chunked = await serveRaw((s) => s.once('data', () => s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n')));
    expect(await sendHttp({}, { url: chunked, defaultTimeoutMs: 2000 }).done).toMatchObject({ kind: 'response', status: 200, complete: false });
    const short = await serveRaw((s) => s.once('data', () => s.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello')));
    expect(await sendHttp({}, { url: short, defaultTimeoutMs: 2000 }).done).toMatchObject({ kind: 'response', complete: false });
    const whole = await serveRaw((s) => s.once('data', () => s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n')));
    expect(await sendHttp({}, { url: whole, defaultTimeoutMs: 2000 }).done).toMatchObject({ kind: 'response', complete: true });
  });

  it('reports a refused connection, a reset before any response, and a timeout as values', async () => {
    const refused = await serveRaw(() => {});
    const port = refused.port;
    for (const c of cleanups.splice(0)) await c();
    expect(await sendHttp({}, { url: new URL(`http://127.0.0.1:${port}/`), defaultTimeoutMs: 2000 }).done).toMatchObject({ kind: 'error', message: expect.stringMatching(/^ECONNREFUSED/) });
    const reset = await serveRaw((s) => s.once('data', () => s.resetAndDestroy()));
    expect(await sendHttp({}, { url: reset, defaultTimeoutMs: 2000 }).done).toMatchObject({ kind: 'error' });
    const silent = await serveRaw(() => {});
    expect(await sendHttp({ timeoutMs: 100 }, { url: silent, defaultTimeoutMs: 2000 }).done).toMatchObject({ kind: 'timeout' });
    const slow = await serveRaw((s) => s.once('data', () => s.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhel')));
    expect(await sendHttp({ timeoutMs: 200 }, { url: slow, defaultTimeoutMs: 2000 }).done).toMatchObject({ kind: 'timeout', partial: { status: 200, complete: false } });
  });
});
