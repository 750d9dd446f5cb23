/**
 * A small web server double: an HTTP-to-FastCGI gateway on the reference client, for testing the web-server
 * suite itself. It passes each HTTP request to one FastCGI application as a Responder request (CGI/1.1
 * variables on FCGI_PARAMS, the body on FCGI_STDIN), relays the CGI response, and turns what is not one into
 * an HTTP error. Deliberate faults (`doubleFaults`) make it deviate one way each, so that a test can show the
 * suite reports every one of them.
 *
 * Between the client and the socket sits a record filter: it skips records a web server does not expect
 * (undefined or server-bound types, records for ids not in flight), the suite's position on them, and it is
 * where the wire faults act.
 * @see §5 §6.1 §6.2
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Duplex } from 'node:stream';
import { parseAddress } from '../../reference/address.ts';
import { Client, ClientError, openTransport } from '../../reference/client/index.ts';
import { alignedPadding, encodeRecord, RecordDecoder, type DecodedRecord } from '../../reference/codec/record.ts';
import {
  FCGI_BEGIN_REQUEST,
  FCGI_END_REQUEST,
  FCGI_GET_VALUES_RESULT,
  FCGI_MAX_CONTENT_LENGTH,
  FCGI_NULL_REQUEST_ID,
  FCGI_PARAMS,
  FCGI_STDERR,
  FCGI_STDIN,
  FCGI_STDOUT,
  FCGI_UNKNOWN_TYPE,
} from '../../spec/constants.ts';

/** Each deliberate fault of the double: what it does. */
export const doubleFaults = {
  'version-2': 'sends every record with version 2',
  'reserved-nonzero': 'sets the reserved byte of every record header',
  'unaligned-padding': 'pads its records so that they are not 8-byte aligned',
  'no-params-end': 'leaves out the empty FCGI_PARAMS record',
  'no-stdin-end': 'leaves out the empty FCGI_STDIN record',
  'growing-ids': 'gives every request on a connection a new, larger request id',
  'no-content-length': 'leaves CONTENT_LENGTH out',
  'wrong-content-length': 'sends CONTENT_LENGTH one more than the body',
  'nul-in-params': 'ends every param value with a NUL byte',
  'drop-http-headers': 'passes no HTTP_* variables',
  'truncate-body': 'sends only the first half of the body on FCGI_STDIN',
  'ignore-status': 'answers 200 whatever the Status header says',
  'stderr-in-body': 'appends FCGI_STDERR to the body',
  'padding-in-body': 'reads padding bytes as content',
  'drop-tiny-records': 'drops FCGI_STDOUT records of fewer than 8 bytes',
  'rejection-as-200': 'answers an empty 200 when the application rejects the request',
  'truncated-as-success': 'answers 200 when the connection closes before FCGI_END_REQUEST',
  'no-abort': 'lets the request run on when the HTTP client goes away',
  'serial-stdin': 'reads no output until it has sent the whole body',
} as const;

export type DoubleFault = keyof typeof doubleFaults;

/** Options of `startDouble`. */
export interface DoubleOptions {
  /** The FastCGI application: `tcp:HOST:PORT` or `unix:PATH`. */
  readonly backend: string;
  readonly faults?: readonly DoubleFault[];
  /** How long the double waits for the application before answering 504 (default 2000 ms). */
  readonly timeoutMs?: number;
  /** The HTTP port on 127.0.0.1 (default: a free one). */
  readonly port?: number;
}

/** A running double. */
export interface RunningDouble {
  /** `http://127.0.0.1:P/` */
  readonly url: string;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024 * 1024;

/** The record filter between the reference client and the socket. */
class DoubleWire extends Duplex {
  readonly #socket: Duplex;
  readonly #faults: ReadonlySet<DoubleFault>;
  readonly #out = new RecordDecoder();
  readonly #in = new RecordDecoder();
  // Ids in flight, as the application sees them → as the client sees them.
  readonly #ids = new Map<number, number>();
  readonly #toWire = new Map<number, number>();
  #nextWireId = 0;
  #stdinOpen = new Set<number>();
  #drain: (() => void) | undefined;

  constructor(socket: Duplex, faults: ReadonlySet<DoubleFault>) {
    super({ allowHalfOpen: false });
    this.#socket = socket;
    this.#faults = faults;
    socket.on('data', (chunk: Buffer) => this.#incoming(chunk));
    socket.on('end', () => this.push(null));
    socket.on('drain', () => {
      const d = this.#drain;
      this.#drain = undefined;
      d?.();
    });
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => this.destroy());
  }

  override _read(): void {
    if (!this.#serialHold()) this.#socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    for (const r of this.#out.push(chunk)) {
      const bytes = this.#outgoing(r);
      if (bytes) this.#socket.write(bytes);
    }
    if (!this.#serialHold()) this.#socket.resume();
    if (this.#socket.writableNeedDrain) this.#drain = () => callback();
    else callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#socket.end();
    callback();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.#socket.destroy();
    callback(err);
  }

  // serial-stdin: no reading while a body is still being sent.
  #serialHold(): boolean {
    return this.#faults.has('serial-stdin') && this.#stdinOpen.size > 0;
  }

  #outgoing(r: DecodedRecord): Uint8Array | undefined {
    const f = this.#faults;
    let requestId = r.requestId;
    if (r.requestId !== FCGI_NULL_REQUEST_ID) {
      if (r.type === FCGI_BEGIN_REQUEST) {
        const wire = f.has('growing-ids') ? ++this.#nextWireId : r.requestId;
        this.#ids.set(wire, r.requestId);
        this.#toWire.set(r.requestId, wire);
        this.#stdinOpen.add(r.requestId);
      }
      requestId = this.#toWire.get(r.requestId) ?? r.requestId;
      if (r.type === FCGI_STDIN && r.content.length === 0) {
        this.#stdinOpen.delete(r.requestId);
        if (f.has('no-stdin-end')) return undefined;
      }
      if (r.type === FCGI_PARAMS && r.content.length === 0 && f.has('no-params-end')) return undefined;
    }
    if (this.#serialHold()) this.#socket.pause();
    const paddingLength = f.has('unaligned-padding') ? alignedPadding(r.content.length) + 1 : r.paddingLength;
    return encodeRecord({
      type: r.type,
      requestId,
      content: r.content,
      paddingLength,
      version: f.has('version-2') ? 2 : r.version,
      reserved: f.has('reserved-nonzero') ? 0xa5 : r.reserved,
    });
  }

  #incoming(chunk: Buffer): void {
    const parts: Uint8Array[] = [];
    for (const r of this.#in.push(chunk)) for (const out of this.#translate(r)) parts.push(out);
    if (parts.length > 0 && !this.push(Buffer.concat(parts))) this.#socket.pause();
    if (this.#serialHold()) this.#socket.pause();
  }

  // What the client gets for one record from the application.
  #translate(r: DecodedRecord): Uint8Array[] {
    const f = this.#faults;
    if (r.requestId === FCGI_NULL_REQUEST_ID) {
      return r.type === FCGI_GET_VALUES_RESULT || r.type === FCGI_UNKNOWN_TYPE ? [encodeRecord(r)] : [];
    }
    const id = this.#ids.get(r.requestId);
    // Records for an id not in flight, and types only a web server sends, are skipped.
    if (id === undefined || (r.type !== FCGI_STDOUT && r.type !== FCGI_STDERR && r.type !== FCGI_END_REQUEST)) return [];
    if (r.type === FCGI_END_REQUEST) {
      this.#ids.delete(r.requestId);
      this.#toWire.delete(id);
      this.#stdinOpen.delete(id);
    }
    if (r.type === FCGI_STDOUT && f.has('drop-tiny-records') && r.content.length > 0 && r.content.length < 8) return [];
    if (r.type === FCGI_STDOUT && f.has('padding-in-body') && r.paddingLength > 0) {
      const all = Buffer.concat([r.content, r.padding]);
      const out: Uint8Array[] = [];
      for (let at = 0; at < all.length; at += FCGI_MAX_CONTENT_LENGTH) out.push(encodeRecord({ type: r.type, requestId: id, content: all.subarray(at, at + FCGI_MAX_CONTENT_LENGTH) }));
      return out;
    }
    return [encodeRecord({ ...r, requestId: id })];
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) req.destroy(new Error('body too large'));
      else parts.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(parts)));
    req.on('error', reject);
    req.on('aborted', () => reject(new Error('the HTTP client went away')));
  });
}

/** The CGI/1.1 variables of an HTTP request, as a Responder receives them. @see §6.2 */
function cgiParams(req: IncomingMessage, body: Buffer, port: number, faults: ReadonlySet<DoubleFault>): [string, string][] {
  const url = new URL(req.url ?? '/', 'http://double.invalid');
  const path = decodeURIComponent(url.pathname);
  const out: [string, string][] = [
    ['GATEWAY_INTERFACE', 'CGI/1.1'],
    ['SERVER_SOFTWARE', 'fcgispec-double'],
    ['SERVER_PROTOCOL', `HTTP/${req.httpVersion}`],
    ['SERVER_NAME', '127.0.0.1'],
    ['SERVER_PORT', String(port)],
    ['REQUEST_METHOD', req.method ?? 'GET'],
    ['REQUEST_URI', req.url ?? '/'],
    ['SCRIPT_NAME', path],
    ['SCRIPT_FILENAME', `/srv/fcgispec${path}`],
    ['DOCUMENT_ROOT', '/srv/fcgispec'],
    ['QUERY_STRING', url.search.replace(/^\?/, '')],
    ['REMOTE_ADDR', req.socket.remoteAddress ?? ''],
    ['REMOTE_PORT', String(req.socket.remotePort ?? '')],
  ];
  const hasBody = body.length > 0 || req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
  if (hasBody && !faults.has('no-content-length')) out.push(['CONTENT_LENGTH', String(body.length + (faults.has('wrong-content-length') ? 1 : 0))]);
  const type = req.headers['content-type'];
  if (type !== undefined) out.push(['CONTENT_TYPE', type]);
  if (!faults.has('drop-http-headers')) {
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || name === 'content-length' || name === 'content-type') continue;
      out.push([`HTTP_${name.toUpperCase().replace(/-/g, '_')}`, Array.isArray(value) ? value.join(', ') : value]);
    }
  }
  return faults.has('nul-in-params') ? out.map(([n, v]) => [n, `${v}\u0000`]) : out;
}

// The HTTP status for a failed FastCGI request.
function failureStatus(err: unknown, faults: ReadonlySet<DoubleFault>): number {
  if (!(err instanceof ClientError)) return 502;
  switch (err.code) {
    case 'E_REJECTED':
      return faults.has('rejection-as-200') ? 200 : 503;
    case 'E_CLOSED':
      return faults.has('truncated-as-success') ? 200 : 502;
    case 'E_TIMEOUT':
      return 504;
    default:
      return 502;
  }
}

/** Starts the double on a free 127.0.0.1 port in front of `options.backend`. */
export async function startDouble(options: DoubleOptions): Promise<RunningDouble> {
  const faults: ReadonlySet<DoubleFault> = new Set(options.faults ?? []);
  const backend = parseAddress(options.backend);
  const client = new Client(
    async () => new DoubleWire(await openTransport(backend), faults),
    { keepConn: true, multiplex: 'auto', timeoutMs: options.timeoutMs ?? 2000, abortTimeoutMs: 2000, maxConnections: 16, idleTimeoutMs: 5000 },
  );
  let port = 0;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished && !faults.has('no-abort')) controller.abort(new Error('the HTTP client went away'));
    });
    let body: Buffer;
    try {
      body = await readBody(req);
    } catch {
      return;
    }
    const stdin = faults.has('truncate-body') ? body.subarray(0, Math.floor(body.length / 2)) : body;
    try {
      const result = await client.request({ params: cgiParams(req, body, port, faults), stdin, signal: controller.signal });
      if (!result.cgi) {
        res.writeHead(502, { 'Content-Type': 'text/plain' }).end(`the application's output is not a CGI response: ${result.cgiError?.message ?? 'empty'}\n`);
        return;
      }
      const headers: [string, string][] = result.cgi.headers.filter(([n]) => n.toLowerCase() !== 'status').map(([n, v]) => [n, v]);
      const out = faults.has('stderr-in-body') ? Buffer.concat([result.cgi.body, result.stderr]) : result.cgi.body;
      res.writeHead(faults.has('ignore-status') ? 200 : result.cgi.status, headers.flat());
      res.end(out);
    } catch (err) {
      if (res.headersSent || res.destroyed) return;
      const status = failureStatus(err, faults);
      res.writeHead(status, { 'Content-Type': 'text/plain' }).end(status === 200 ? '' : `${err instanceof Error ? err.message : String(err)}\n`);
    }
  };
  const server: Server = createServer((req, res) => void handle(req, res).catch(() => res.destroy()));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const a = server.address();
  port = a && typeof a === 'object' ? a.port : 0;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await client.close().catch(() => undefined);
    },
  };
}

