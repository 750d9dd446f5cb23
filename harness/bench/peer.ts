/**
 * Bench section `peer`: requests per second of the reference client against the reference responder (the
 * probe app echoing a small body), beside the same load driven through Node's own `http` client and server.
 *
 * - Servers: each runs in a child process (`peer-server.ts`), the responder through `startServe`, the http
 *   server with a handler that answers as the probe's echo does, both listening on a Unix socket in a temp
 *   folder and on TCP 127.0.0.1. The load runs here, in the bench process, so each side has its own event
 *   loop and the comparison is between like and like.
 * - Load: a closed loop of 1 or 16 concurrent requests, each a 64-byte POST body echoed back, over kept
 *   connections: FastCGI with FCGI_KEEP_CONN and one request per connection (16 connections at 16, as the
 *   http.Agent with keepAlive opens), plus one row with the 16 multiplexed over a single connection. Every
 *   answer is checked (status 200 and the body back); any other answer fails the section.
 * - Timing: per row, `FCGISPEC_BENCH_SECONDS` (default 3) of measurement after 1 s of warm-up on the same
 *   connections. The rows of one transport and concurrency take turns in half-second slices, so that load
 *   from elsewhere on the machine weighs on the FastCGI and the http figures alike. The ratio is FastCGI ÷
 *   http for the same transport and concurrency.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request as httpRequest, type RequestOptions as HttpRequestOptions } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseAddress } from '../../reference/address.ts';
import { Client } from '../../reference/client/index.ts';
import type { BenchRow, BenchSection } from './section.ts';

const BODY = Buffer.alloc(64, 'fcgispec');
const WARMUP_SECONDS = 1;
const SLICE_SECONDS = 0.5;
const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..', '..');

// What a web server typically passes for such a request (nginx's fastcgi_params, trimmed), so the FastCGI
// request carries about what the HTTP request's head does.
const PARAMS: Readonly<Record<string, string>> = {
  GATEWAY_INTERFACE: 'CGI/1.1',
  SERVER_SOFTWARE: 'fcgispec-bench',
  SERVER_PROTOCOL: 'HTTP/1.1',
  SERVER_NAME: 'localhost',
  SERVER_PORT: '80',
  REMOTE_ADDR: '127.0.0.1',
  REQUEST_METHOD: 'POST',
  REQUEST_URI: '/echo',
  SCRIPT_NAME: '/echo',
  QUERY_STRING: '',
  CONTENT_TYPE: 'application/octet-stream',
  CONTENT_LENGTH: String(BODY.length),
  HTTP_HOST: 'localhost',
};

function envSeconds(): number {
  const value = Number(process.env['FCGISPEC_BENCH_SECONDS']);
  return Number.isFinite(value) && value > 0 ? value : 3;
}

/** A server child and the addresses it listens on. */
interface ServerChild {
  readonly unix: string;
  readonly tcp: string;
  stop(): Promise<void>;
}

async function startServer(kind: 'fastcgi' | 'http', dir: string): Promise<ServerChild> {
  const script = join(here, 'peer-server.ts');
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', script, kind, `unix:${join(dir, `${kind}.sock`)}`, 'tcp:127.0.0.1:0'], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.stdin?.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const lines = createInterface({ input: child.stdout! });
    const first = await Promise.race([
      once(lines, 'line').then(([line]) => String(line)),
      exited.then(([code]) => Promise.reject(new Error(`the ${kind} server exited (${String(code)}) before listening`))),
    ]);
    lines.close();
    const { addresses } = JSON.parse(first) as { addresses: string[] };
    const [unix, tcp] = addresses;
    if (unix === undefined || tcp === undefined) throw new Error(`the ${kind} server said ${first}`);
    return { unix, tcp, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** One way of sending the bench request, over connections it keeps until `close`. */
interface Load {
  readonly concurrency: number;
  once(): Promise<void>;
  close(): Promise<void>;
}

// A closed loop: `concurrency` workers each send the next request when the last is answered.
async function drive(load: Load, seconds: number): Promise<{ done: number; seconds: number }> {
  let done = 0;
  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  const worker = async (): Promise<void> => {
    while (performance.now() < until) {
      await load.once();
      done++;
    }
  };
  await Promise.all(Array.from({ length: load.concurrency }, worker));
  return { done, seconds: (performance.now() - t0) / 1000 };
}

/**
 * Requests per second of each load. After a warm-up of each, the loads take turns in slices of half a second
 * until each has run `seconds`: whatever else the machine does then weighs on all of them alike.
 */
async function measure(loads: readonly Load[], seconds: number): Promise<number[]> {
  for (const load of loads) await drive(load, WARMUP_SECONDS);
  const slices = Math.max(1, Math.round(seconds / SLICE_SECONDS));
  const totals = loads.map(() => ({ done: 0, seconds: 0 }));
  for (let i = 0; i < slices; i++) {
    for (const [j, load] of loads.entries()) {
      const r = await drive(load, seconds / slices);
      totals[j]!.done += r.done;
      totals[j]!.seconds += r.seconds;
    }
  }
  return totals.map((t) => t.done / t.seconds);
}

function checkBody(body: Uint8Array, what: string): void {
  if (Buffer.compare(body, BODY) !== 0) throw new Error(`${what}: the echoed body differs (${body.length} bytes)`);
}

/** The reference client; `multiplex` puts every request on one connection. */
function fastcgiLoad(address: string, concurrency: number, multiplex: boolean): Load {
  const client = new Client(address, {
    keepConn: true,
    multiplex,
    maxConnections: multiplex ? 1 : concurrency,
    ...(multiplex ? { maxRequestsPerConnection: concurrency } : {}),
    timeoutMs: 10_000,
  });
  return {
    concurrency,
    async once() {
      const res = await client.request({ params: PARAMS, stdin: BODY });
      if (res.cgi?.status !== 200) throw new Error(`FastCGI: status ${res.cgi?.status ?? '(no CGI response)'}`);
      checkBody(res.cgi.body, 'FastCGI');
    },
    close: () => client.close(),
  };
}

/** Node's http client with a keep-alive Agent. */
function httpLoad(address: string, concurrency: number): Load {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const addr = parseAddress(address);
  const where: HttpRequestOptions = addr.kind === 'unix' ? { socketPath: addr.path } : addr.kind === 'tcp' ? { host: addr.host, port: addr.port } : {};
  const options: HttpRequestOptions = {
    ...where,
    agent,
    method: 'POST',
    path: '/echo',
    headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': BODY.length, Host: 'localhost' },
  };
  return {
    concurrency,
    once: () =>
      new Promise((resolve, reject) => {
        const req = httpRequest(options, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            try {
              if (res.statusCode !== 200) throw new Error(`http: status ${String(res.statusCode)}`);
              checkBody(Buffer.concat(chunks), 'http');
              resolve();
            } catch (err) {
              reject(err);
            }
          });
        });
        req.on('error', reject);
        req.end(BODY);
      }),
    close: async () => agent.destroy(),
  };
}

/** The `peer` section: reference client and responder against Node http, in requests per second. */
export const peerSection: BenchSection = {
  name: 'peer',
  title: 'Reference client → reference responder (probe echo, 64-byte body), beside Node http; servers in a child process',
  async run(): Promise<BenchRow[]> {
    const seconds = envSeconds();
    const dir = await mkdtemp(join(tmpdir(), 'fcgispec-bench-'));
    const servers: ServerChild[] = [];
    try {
      const fastcgi = await startServer('fastcgi', dir);
      servers.push(fastcgi);
      const http = await startServer('http', dir);
      servers.push(http);
      const rows: BenchRow[] = [];
      const timing = `${seconds} s in turns with the rows below, after ${WARMUP_SECONDS} s warm-up`;
      for (const transport of ['unix', 'tcp'] as const) {
        for (const concurrency of [1, 16]) {
          const label = `${transport}, ${concurrency} concurrent`;
          const baseline = `http ${label}`;
          const connections = concurrency === 1 ? '1 connection' : `${concurrency} connections`;
          const loads = [httpLoad(http[transport], concurrency), fastcgiLoad(fastcgi[transport], concurrency, false)];
          if (concurrency > 1) loads.push(fastcgiLoad(fastcgi[transport], concurrency, true));
          try {
            const [h, f, m] = await measure(loads, seconds);
            rows.push({ name: baseline, value: h!, unit: 'req/s', note: `http.Agent keepAlive, ${connections}; ${timing}` });
            rows.push({ name: `FastCGI ${label}`, value: f!, unit: 'req/s', baseline: { name: baseline }, note: `Client, FCGI_KEEP_CONN, ${connections}` });
            if (m !== undefined) {
              rows.push({ name: `FastCGI ${label}, multiplexed`, value: m, unit: 'req/s', baseline: { name: baseline }, note: 'Client, FCGI_KEEP_CONN, all on 1 connection (FCGI_MPXS_CONNS)' });
            }
          } finally {
            await Promise.all(loads.map((l) => l.close()));
          }
        }
      }
      return rows;
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
      await rm(dir, { recursive: true, force: true });
    }
  },
};
