/**
 * The server side of the `peer` bench, run as a child process so that it never shares an event loop with
 * the load: `fastcgi` runs the reference responder with the probe app (`startServe`), `http` runs Node's own
 * `http` server answering as the probe's echo does (status 200, `Content-Type: application/octet-stream`,
 * the request body back). Listens on every address given (`unix:PATH`, `tcp:HOST:PORT`), prints one JSON
 * line `{"addresses":[...]}` with the bound addresses, and exits when its stdin closes.
 *
 * `node --import tsx harness/bench/peer-server.ts fastcgi|http ADDRESS...`
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { unlink } from 'node:fs/promises';
import { parseAddress } from '../../reference/address.ts';
import { startServe, type ServeHandle } from '../commands/serve.ts';

function echo(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    res.writeHead(200, 'OK', { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length });
    res.end(body);
  });
}

async function listenHttp(address: string): Promise<{ text: string; close: () => Promise<void> }> {
  const addr = parseAddress(address);
  const server: Server = createServer({ keepAliveTimeout: 60_000 }, echo);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (addr.kind === 'unix') server.listen(addr.path, resolve);
    else if (addr.kind === 'tcp') server.listen(addr.port, addr.host, resolve);
    else reject(new Error(`peer-server: cannot listen on ${address}`));
  });
  const bound = server.address();
  const text = addr.kind === 'tcp' && bound !== null && typeof bound === 'object' ? `tcp:${addr.host}:${bound.port}` : address;
  return {
    text,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (addr.kind === 'unix') await unlink(addr.path).catch(() => undefined);
    },
  };
}

async function main(kind: string | undefined, addresses: readonly string[]): Promise<void> {
  if ((kind !== 'fastcgi' && kind !== 'http') || addresses.length === 0) {
    process.stderr.write('usage: peer-server.ts fastcgi|http ADDRESS...\n');
    process.exitCode = 2;
    return;
  }
  const bound: string[] = [];
  const closers: (() => Promise<void>)[] = [];
  if (kind === 'fastcgi') {
    const handle: ServeHandle = await startServe({ listen: addresses[0]!, log: false });
    bound.push(handle.address);
    for (const more of addresses.slice(1)) bound.push((await handle.responder.listen(more)).text);
    closers.push(() => handle.close(0));
  } else {
    for (const a of addresses) {
      const s = await listenHttp(a);
      bound.push(s.text);
      closers.push(s.close);
    }
  }
  process.stdout.write(`${JSON.stringify({ addresses: bound })}\n`);
  // The bench ends us by closing our stdin (or, failing that, with a signal).
  process.stdin.resume();
  await new Promise<void>((resolve) => {
    process.stdin.once('end', resolve);
    process.stdin.once('close', resolve);
    process.once('SIGTERM', resolve);
  });
  await Promise.all(closers.map((c) => c()));
  process.stdin.pause();
}

await main(process.argv[2], process.argv.slice(3));
