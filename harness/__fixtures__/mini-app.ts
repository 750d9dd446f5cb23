/**
 * A minimal FastCGI application for the harness's own tests, independent of the reference responder.
 * Behaviour by SCRIPT_NAME: `/crash` stops serving (the process exits with 3 when spawned), `/exit` ends the
 * spawned process with status 0 after answering (as php-cgi does after PHP_FCGI_MAX_REQUESTS), `/hang` never answers,
 * `/noisy` interleaves FCGI_STDERR and a record of another request id, anything else answers "hello".
 * `PROBE_ACTION=echo-stdin` echoes FCGI_STDIN. Run as a script, it serves the listening socket on fd 0.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { decodeBeginRequestBody, encodeEndRequestBody } from '../../reference/codec/bodies.ts';
import { decodeNameValuePairs, encodeNameValuePairs, toText } from '../../reference/codec/name-value.ts';
import { concatBytes, encodeRecord, encodeStream, RecordDecoder } from '../../reference/codec/record.ts';
import {
  FCGI_BEGIN_REQUEST,
  FCGI_END_REQUEST,
  FCGI_GET_VALUES,
  FCGI_GET_VALUES_RESULT,
  FCGI_KEEP_CONN,
  FCGI_PARAMS,
  FCGI_STDERR,
  FCGI_STDIN,
  FCGI_STDOUT,
} from '../../spec/constants.ts';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Serves the mini app on `server`; `onCrash` runs for `/crash`, `onExit` after answering `/exit`. */
export function serveMiniApp(server: Server, onCrash: () => void, onExit: () => void = () => {}): void {
  server.on('connection', (socket: Socket) => {
    const decoder = new RecordDecoder();
    const reqs = new Map<number, { flags: number; params: Uint8Array[]; stdin: Uint8Array[] }>();
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      for (const r of decoder.push(new Uint8Array(chunk))) {
        if (r.type === FCGI_GET_VALUES) {
          const content = encodeNameValuePairs({ FCGI_MAX_CONNS: '10', FCGI_MAX_REQS: '10', FCGI_MPXS_CONNS: '0' });
          socket.write(encodeRecord({ type: FCGI_GET_VALUES_RESULT, requestId: 0, content }));
        } else if (r.type === FCGI_BEGIN_REQUEST) {
          reqs.set(r.requestId, { flags: decodeBeginRequestBody(r.content).flags, params: [], stdin: [] });
        } else if (r.type === FCGI_PARAMS && r.content.length > 0) {
          reqs.get(r.requestId)?.params.push(r.content.slice());
        } else if (r.type === FCGI_STDIN) {
          const req = reqs.get(r.requestId);
          if (!req) continue;
          if (r.content.length > 0) {
            req.stdin.push(r.content.slice());
            continue;
          }
          reqs.delete(r.requestId);
          const params = new Map(decodeNameValuePairs(concatBytes(req.params)).pairs.map((p) => [toText(p.name), toText(p.value)]));
          const script = params.get('SCRIPT_NAME') ?? '/';
          if (script === '/crash') return onCrash();
          if (script === '/hang') continue;
          const id = r.requestId;
          const body = params.get('PROBE_ACTION') === 'echo-stdin' ? concatBytes(req.stdin) : text('hello');
          const out: Uint8Array[] = [];
          if (script === '/noisy') {
            out.push(encodeRecord({ type: FCGI_STDERR, requestId: id, content: text('a warning') }));
            out.push(encodeRecord({ type: FCGI_STDOUT, requestId: id + 1, content: text('not yours') }));
          }
          out.push(encodeStream(FCGI_STDOUT, id, concatBytes([text('Status: 200 OK\r\nContent-Type: text/plain\r\n\r\n'), body])));
          if (script === '/noisy') out.push(encodeStream(FCGI_STDERR, id, new Uint8Array(0)));
          out.push(encodeRecord({ type: FCGI_END_REQUEST, requestId: id, content: encodeEndRequestBody({ appStatus: 0, protocolStatus: 0 }) }));
          socket.write(concatBytes(out));
          if ((req.flags & FCGI_KEEP_CONN) === 0) socket.end();
          if (script === '/exit') socket.end(onExit);
        }
      }
    });
  });
}

/** Starts the mini app in this process on 127.0.0.1, port 0. `/crash` closes the listener and every connection. */
export async function startMiniApp(): Promise<{ readonly port: number; readonly crashed: () => boolean; close(): Promise<void> }> {
  const server = createServer();
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  let crashed = false;
  serveMiniApp(server, () => {
    crashed = true;
    server.close();
    for (const s of sockets) s.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    crashed: () => crashed,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        if (!server.listening) return resolve();
        server.close(() => resolve());
      }),
  };
}

if (process.argv[1]?.endsWith('mini-app.ts')) {
  const server = createServer();
  serveMiniApp(
    server,
    () => {
      process.stderr.write('mini-app: crashing on request\n');
      process.exit(3);
    },
    () => process.exit(0),
  );
  server.listen({ fd: 0 }, () => process.stderr.write(`mini-app ${process.pid}: serving fd 0\n`));
}
