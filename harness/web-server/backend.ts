/**
 * The instrumented backend of the web-server suite: the reference responder behind a tap. Every connection the
 * web server opens is accepted here; the bytes it sends are decoded, validated (`StreamValidator`, web-server
 * side, with our own records as the peer's) and gathered per request before they reach a `ResponderConnection`;
 * what the responder sends passes back through the tap, where a scenario that took a request over has the
 * responder's own records for it dropped and writes its own.
 *
 * A request is tied to a scenario by the tag in its path (`/fcgispec/<scenario id>/<n>`, found in REQUEST_URI
 * or the other path params), and answered by the handler the current scenario set; requests of no scenario
 * get a small default answer. Responder faults come from the current scenario (drawn at FCGI_BEGIN_REQUEST).
 * @see §3.3 §4.1 §5 §6.2
 */
import { chmod, unlink } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { formatAddress, parseAddress, type Address } from '../../reference/address.ts';
import { listenOn, listenUnix } from '../../reference/listen.ts';
import { decodeBeginRequestBody, decodeEndRequestBody } from '../../reference/codec/bodies.ts';
import { decodeNameValuePairs, toText, type NameValuePair } from '../../reference/codec/name-value.ts';
import { RecordDecoder, type DecodedRecord } from '../../reference/codec/record.ts';
import { StreamValidator, type ValidationFinding } from '../../reference/codec/validate.ts';
import { ResponderConnection, type ConnectionOwner } from '../../reference/responder/connection.ts';
import { ActiveFaults, FaultPlan, faultCatalog, type Fault, type FaultName } from '../../reference/responder/faults.ts';
import { defaultResponderLimits, type FcgiRequest, type FcgiResponse, type Handler, type RequestLogEntry } from '../../reference/responder/types.ts';
import { describe as describeRecord, toHex } from '../../reports/transcript.ts';
import type { TranscriptLine } from '../../reports/model.ts';
import {
  FCGI_ABORT_REQUEST,
  FCGI_BEGIN_REQUEST,
  FCGI_DATA,
  FCGI_END_REQUEST,
  FCGI_HEADER_LEN,
  FCGI_KEEP_CONN,
  FCGI_NULL_REQUEST_ID,
  FCGI_PARAMS,
  FCGI_STDIN,
  roleNames,
  type RoleName,
} from '../../spec/constants.ts';
import type { AnswerExchange, AnswerHandler, CgiAnswer, RequestEnding, RequestTrace } from '../../suites/web-server/define.ts';

/** FCGI_STDIN bytes kept per request (a 10 MiB upload and some). */
export const STDIN_KEEP_BYTES = 16 * 1024 * 1024;
/** FCGI_PARAMS bytes gathered per request before it counts as too large to decode. */
export const PARAMS_KEEP_BYTES = 8 * 1024 * 1024;
/** Log lines kept between two `takeLog` calls: the first ones and, in a ring, the last ones; the rest are counted. */
export const LOG_HEAD_LINES = 1500;
export const LOG_TAIL_LINES = 500;
/** Hex bytes of a record kept in its log line. */
const LOG_HEX_BYTES = 64;

/** A record kept for the log: its header and the start of its content, described only if the line is kept. */
interface LoggedRecord {
  readonly atMs: number;
  readonly dir: 'sent' | 'received';
  readonly conn: number;
  readonly record: DecodedRecord;
  readonly contentLength: number;
}

type LogEntry = TranscriptLine | LoggedRecord;

// Enough of a PARAMS record to list its pairs, enough of any other for its one-line summary.
const keptContent = (type: number): number => (type === FCGI_PARAMS ? 8192 : 256);

function logLine(entry: LogEntry): TranscriptLine {
  if (!('record' in entry)) return entry;
  const { record, contentLength } = entry;
  const length = FCGI_HEADER_LEN + contentLength + record.paddingLength;
  const head = Buffer.alloc(Math.min(LOG_HEX_BYTES, length));
  head[0] = record.version;
  head[1] = record.type;
  head.writeUInt16BE(record.requestId, 2);
  head.writeUInt16BE(contentLength, 4);
  head[6] = record.paddingLength;
  head[7] = record.reserved;
  head.set(record.content.subarray(0, head.length - FCGI_HEADER_LEN), FCGI_HEADER_LEN);
  const described = describeRecord(record);
  const records = [contentLength === record.content.length ? described : { ...described, contentLength }];
  return { atMs: entry.atMs, dir: entry.dir, conn: entry.conn, hex: toHex(head), byteLength: length, records };
}

const TAG = /\/fcgispec\/([A-Za-z0-9._-]+)\/([0-9]{1,9})(?=[/?#;\0]|$)/;
const TAG_PARAMS = ['REQUEST_URI', 'DOCUMENT_URI', 'SCRIPT_NAME', 'SCRIPT_FILENAME', 'PATH_INFO'] as const;

/** The scenario tag in a request's path params, if any. */
export function findTag(param: (name: string) => string | undefined): { readonly scenario: string; readonly n: number } | undefined {
  for (const name of TAG_PARAMS) {
    const m = TAG.exec(param(name) ?? '');
    if (m) return { scenario: m[1]!, n: Number(m[2]) };
  }
  return undefined;
}

/** A validator finding as the backend saw it. */
export interface BackendFinding {
  readonly finding: ValidationFinding;
  readonly conn: number;
  readonly atMs: number;
  /** The scenario bound when the record arrived. */
  readonly scenario: string | undefined;
}

/** A management record the web server sent. */
export interface ManagementEntry {
  readonly type: number;
  readonly conn: number;
  readonly atMs: number;
  /** The names of a FCGI_GET_VALUES query. */
  readonly names: readonly string[];
}

/** What the backend needs from the scenario that runs. */
export interface Binding {
  readonly scenario: string;
  readonly faults: readonly Fault[];
  /** Answers requests tagged with this scenario. */
  answer: AnswerHandler;
  /** A request of this binding's period finished its FCGI_PARAMS, or a request changed. */
  onChange(): void;
}

/** Options of `startBackend`. */
export interface BackendOptions {
  /** `tcp:HOST:PORT`, `HOST:PORT` or `unix:PATH`. */
  readonly listen: string;
  /** Claim FCGI_MPXS_CONNS=1 and serve concurrent requests per connection (default true). @see §4.1 */
  readonly multiplex?: boolean;
  /** Mode of a Unix socket (default 0o666, so a web server running as another user can connect). */
  readonly unixMode?: number;
  /** How long the default answer waits for the end of FCGI_STDIN (default 5000 ms). */
  readonly stdinWaitMs?: number;
}

const EMPTY = Buffer.alloc(0);

const sinceStart = (t0: number): number => Math.round((performance.now() - t0) * 1000) / 1000;

class Trace implements RequestTrace {
  readonly conn: number;
  readonly requestId: number;
  readonly role: number;
  readonly flags: number;
  readonly beginAtMs: number;
  readonly activeOnConnection: number;
  params: readonly NameValuePair[] | undefined;
  paramsError: string | undefined;
  paramsRecords = 0;
  paramsBytes = 0;
  paramsParts: Uint8Array[] = [];
  stdinRecords = 0;
  stdinBytes = 0;
  stdinParts: Uint8Array[] = [];
  stdinKept = true;
  stdinEnded = false;
  dataRecords = 0;
  records = 0;
  unalignedRecords = 0;
  tag: { readonly scenario: string; readonly n: number } | undefined;
  abortAtMs: number | undefined;
  ending: RequestEnding | undefined;
  #map: Map<string, string> | undefined;
  #stdin: Uint8Array | undefined;

  constructor(conn: number, requestId: number, role: number, flags: number, atMs: number, active: number) {
    this.conn = conn;
    this.requestId = requestId;
    this.role = role;
    this.flags = flags;
    this.beginAtMs = atMs;
    this.activeOnConnection = active;
  }

  get keepConn(): boolean {
    return (this.flags & FCGI_KEEP_CONN) !== 0;
  }

  count(record: DecodedRecord): void {
    this.records++;
    if ((FCGI_HEADER_LEN + record.content.length + record.paddingLength) % 8 !== 0) this.unalignedRecords++;
  }

  get stdin(): Uint8Array {
    if (this.#stdin === undefined || this.#stdin.length !== Math.min(this.stdinBytes, STDIN_KEEP_BYTES)) this.#stdin = Buffer.concat(this.stdinParts);
    return this.#stdin;
  }

  param(name: string): string | undefined {
    if (!this.params) return undefined;
    this.#map ??= new Map(this.params.map((p) => [toText(p.name), toText(p.value)]));
    return this.#map.get(name);
  }
}

/**
 * Splits the responder's output at record boundaries as it streams, so records of a request a scenario took
 * over can be dropped while everything else passes unchanged and at once (a record cut short passes as is).
 */
class OutputSplitter {
  readonly #header = Buffer.alloc(FCGI_HEADER_LEN);
  #headerBytes = 0;
  #remaining = 0;
  #dropping = false;

  /** The parts of `chunk` to forward. */
  split(chunk: Buffer, drop: (requestId: number) => boolean): Buffer[] {
    const out: Buffer[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.#remaining === 0) {
        const take = Math.min(FCGI_HEADER_LEN - this.#headerBytes, chunk.length - at);
        chunk.copy(this.#header, this.#headerBytes, at, at + take);
        this.#headerBytes += take;
        at += take;
        if (this.#headerBytes < FCGI_HEADER_LEN) break;
        const h = this.#header;
        this.#headerBytes = 0;
        this.#remaining = ((h[4]! << 8) | h[5]!) + h[6]!;
        this.#dropping = drop((h[2]! << 8) | h[3]!);
        if (!this.#dropping) out.push(Buffer.from(h));
        continue;
      }
      const take = Math.min(this.#remaining, chunk.length - at);
      if (!this.#dropping) out.push(chunk.subarray(at, at + take));
      this.#remaining -= take;
      at += take;
    }
    return out;
  }

  /** Header bytes of a record that never completed. */
  pending(): Buffer {
    return Buffer.from(this.#header.subarray(0, this.#headerBytes));
  }

  /** True between records. */
  get atBoundary(): boolean {
    return this.#remaining === 0 && this.#headerBytes === 0;
  }
}

/** One connection from the web server, with its tap. */
class BackendConnection {
  readonly index: number;
  readonly socket: Socket;
  readonly proxy: Duplex;
  readonly responder: ResponderConnection;
  readonly openedAtMs: number;
  readonly traces = new Map<number, Trace>();
  readonly suppressed = new Set<number>();
  /** Raw writes, a take-over or a close changed what went out: close the connection when its scenario ends. */
  tainted = false;
  closed = false;
  readonly #backend: Backend;
  readonly #in = new RecordDecoder();
  readonly #out = new RecordDecoder();
  readonly #splitter = new OutputSplitter();
  readonly #validator = new StreamValidator('web-server', { peerObserved: true });
  readonly #raw = new WeakSet<object>();
  #peerEnded = false;
  // Who began closing: the first of our end or destroy and the peer's FIN or reset.
  #closer: 'web-server' | 'backend' | undefined;
  #drainCallback: (() => void) | undefined;

  constructor(backend: Backend, index: number, socket: Socket, owner: ConnectionOwner) {
    this.#backend = backend;
    this.index = index;
    this.socket = socket;
    this.openedAtMs = backend.now();
    this.proxy = new Duplex({
      allowHalfOpen: true,
      read: () => {
        if (!this.closed) socket.resume();
      },
      write: (chunk: Buffer, _encoding, callback) => this.#write(chunk, callback),
      final: (callback) => {
        const rest = this.#splitter.pending();
        if (rest.length > 0) this.#forward([rest]);
        this.#closer ??= 'backend';
        socket.end();
        callback();
      },
      destroy: (_err, callback) => {
        if (!socket.destroyed) {
          this.#closer ??= 'backend';
          socket.destroy();
        }
        callback(null);
      },
    });
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => {
      this.#closer ??= 'web-server';
      this.#peerEnded = true;
      this.proxy.push(null);
    });
    socket.on('drain', () => {
      const cb = this.#drainCallback;
      this.#drainCallback = undefined;
      cb?.();
    });
    socket.on('error', () => {});
    socket.on('close', (hadError) => this.#onClose(hadError));
    this.#backend.log({ atMs: this.openedAtMs, dir: 'note', conn: index, text: `backend connection #${index} accepted` });
    this.responder = new ResponderConnection(this.proxy, owner, index + 1);
  }

  /** Writes bytes as they are, after what the responder has written so far. */
  writeRaw(bytes: Uint8Array): void {
    this.tainted = true;
    this.responder.writer.flush();
    const buf = Buffer.from(bytes);
    this.#raw.add(buf);
    this.proxy.write(buf);
  }

  /** Ends the connection (FIN) once what was written so far has gone out; destroys it if the peer lingers. */
  closeAfterOutput(): void {
    this.tainted = true;
    this.responder.writer.flush();
    const marker = Buffer.alloc(0);
    this.proxy.write(marker, () => {
      this.#closer ??= 'backend';
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 2000).unref();
    });
  }

  /** Closes at once. */
  destroy(): void {
    if (this.closed) return;
    this.#closer ??= 'backend';
    this.socket.destroy();
  }

  /** Requests active on this connection (begun, not ended). */
  activeCount(): number {
    let n = 0;
    for (const t of this.traces.values()) if (t.ending === undefined) n++;
    return n;
  }

  #write(chunk: Buffer, callback: (error?: Error | null) => void): void {
    if (this.socket.destroyed) return callback();
    if (this.#raw.has(chunk)) {
      if (!this.#splitter.atBoundary) this.#backend.log({ atMs: this.#backend.now(), dir: 'note', conn: this.index, text: 'raw bytes written inside a record of the responder' });
      this.#forward([chunk]);
    } else {
      this.#forward(this.#splitter.split(chunk, (id) => this.suppressed.has(id)));
    }
    if (this.socket.writableNeedDrain) this.#drainCallback = () => callback();
    else callback();
  }

  // The parts of one chunk leave in one write, as the responder itself would have sent them.
  #forward(parts: readonly Buffer[]): void {
    const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    if (bytes.length === 0) return;
    this.socket.write(bytes);
    const atMs = this.#backend.now();
    for (const record of this.#out.push(bytes)) {
      this.#backend.logRecord('sent', this.index, atMs, record);
      this.#validator.observePeer(record);
      if (record.type === FCGI_END_REQUEST && record.requestId !== FCGI_NULL_REQUEST_ID) {
        const trace = this.traces.get(record.requestId);
        if (trace && trace.ending === undefined) {
          const body = decodeEndRequestBody(record.content);
          trace.ending = { kind: 'end-request', atMs, protocolStatus: body.protocolStatus, appStatus: body.appStatus };
          this.#backend.changed();
        }
      }
    }
  }

  #onData(chunk: Buffer): void {
    const atMs = this.#backend.now();
    for (const record of this.#in.push(chunk)) {
      this.#backend.logRecord('received', this.index, atMs, record);
      for (const f of this.#validator.push(record)) this.#backend.addFinding(f, this.index, atMs);
      this.#track(record, atMs);
    }
    if (!this.proxy.push(chunk)) this.socket.pause();
  }

  #track(record: DecodedRecord, atMs: number): void {
    const { type, requestId } = record;
    if (requestId === FCGI_NULL_REQUEST_ID) {
      if (type !== FCGI_BEGIN_REQUEST) this.#backend.management(type, this.index, atMs, record.content);
      return;
    }
    if (type === FCGI_BEGIN_REQUEST) {
      const body = decodeBeginRequestBody(record.content);
      const trace = new Trace(this.index, requestId, body.role, body.flags, atMs, this.activeCount() + 1);
      const previous = this.traces.get(requestId);
      if (previous && previous.ending === undefined) previous.ending = { kind: 'closed', atMs, by: 'web-server' };
      trace.count(record);
      this.traces.set(requestId, trace);
      this.suppressed.delete(requestId);
      this.#backend.began(trace);
      return;
    }
    const trace = this.traces.get(requestId);
    if (!trace || trace.ending !== undefined) return;
    const content = record.content;
    trace.count(record);
    switch (type) {
      case FCGI_PARAMS:
        if (trace.params !== undefined || trace.paramsError !== undefined) return;
        trace.paramsRecords++;
        if (content.length > 0) {
          trace.paramsBytes += content.length;
          if (trace.paramsBytes <= PARAMS_KEEP_BYTES) trace.paramsParts.push(Buffer.from(content));
          return;
        }
        if (trace.paramsBytes > PARAMS_KEEP_BYTES) trace.paramsError = `FCGI_PARAMS of ${trace.paramsBytes} bytes, more than the ${PARAMS_KEEP_BYTES} kept`;
        else {
          const { pairs, error } = decodeNameValuePairs(Buffer.concat(trace.paramsParts), { maxPairs: 100_000, maxPairLength: PARAMS_KEEP_BYTES, maxTotalBytes: PARAMS_KEEP_BYTES });
          if (error) trace.paramsError = `FCGI_PARAMS does not decode: ${error.kind}`;
          trace.params = pairs;
          trace.tag = findTag((name) => trace.param(name));
        }
        trace.paramsParts = [];
        this.#backend.changed();
        return;
      case FCGI_STDIN:
        if (trace.stdinEnded) return;
        trace.stdinRecords++;
        if (content.length === 0) {
          trace.stdinEnded = true;
          this.#backend.changed();
          return;
        }
        trace.stdinBytes += content.length;
        if (trace.stdinBytes <= STDIN_KEEP_BYTES) trace.stdinParts.push(Buffer.from(content));
        else trace.stdinKept = false;
        return;
      case FCGI_DATA:
        trace.dataRecords++;
        return;
      case FCGI_ABORT_REQUEST:
        trace.abortAtMs ??= atMs;
        this.#backend.changed();
        return;
    }
  }

  #onClose(hadError: boolean): void {
    if (this.closed) return;
    this.closed = true;
    const atMs = this.#backend.now();
    const by = this.#closer ?? 'web-server';
    const how = by === 'backend' ? 'backend closed' : this.#peerEnded && !hadError ? 'web server closed (FIN)' : 'web server reset the connection';
    this.#backend.log({ atMs, dir: 'closed', conn: this.index, text: how });
    // A record cut short by our own close is not the web server's doing, and a close while requests are
    // active is an abort (§5.4: "the Web server can abort a request by closing the request's transport
    // connection"), which may land inside a record; only a record cut short on an idle connection is judged.
    const active = [...this.traces.values()].filter((t) => t.ending === undefined).length;
    if (by === 'web-server' && active > 0 && this.#in.pendingBytes > 0) {
      this.#backend.log({ atMs, dir: 'note', conn: this.index, text: `the web server closed ${this.#in.pendingBytes} bytes into a record, with ${active} request(s) active: an abort by close` });
    } else if (by === 'web-server') for (const f of this.#validator.end(this.#in.pendingBytes)) this.#backend.addFinding(f, this.index, atMs);
    for (const trace of this.traces.values()) if (trace.ending === undefined) trace.ending = { kind: 'closed', atMs, by };
    if (!this.proxy.destroyed) {
      this.proxy.push(null);
      this.proxy.destroy();
    }
    this.#backend.changed();
  }
}

/** Faults of whatever scenario is bound, drawn for each request as it begins. */
class BindingFaults extends FaultPlan {
  faults: readonly Fault[] = [];

  constructor() {
    super([]);
  }

  override configured(name: FaultName): boolean {
    return this.faults.some((f) => f.name === name);
  }

  override draw(scope: 'request' | 'management'): ActiveFaults {
    const args = new Map<FaultName, number | undefined>();
    for (const f of this.faults) if ((faultCatalog[f.name].scope === 'management') === (scope === 'management')) args.set(f.name, f.arg);
    return args.size === 0 ? ActiveFaults.none : new ActiveFaults(args);
  }
}

/** A request handed to a scenario's answer handler. */
class Exchange implements AnswerExchange {
  readonly trace: Trace;
  readonly request: FcgiRequest;
  readonly response: FcgiResponse;
  readonly #conn: BackendConnection;
  readonly #controller = new AbortController();

  constructor(conn: BackendConnection, trace: Trace, request: FcgiRequest, response: FcgiResponse) {
    this.#conn = conn;
    this.trace = trace;
    this.request = request;
    this.response = response;
    const abort = (): void => this.#controller.abort(request.signal.reason);
    if (request.signal.aborted) abort();
    else request.signal.addEventListener('abort', abort, { once: true });
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The scenario ended. */
  release(): void {
    this.#controller.abort(new Error('the scenario ended'));
  }

  async drainStdin(timeoutMs = 5000): Promise<boolean> {
    if (this.trace.stdinEnded) {
      this.request.stdin.resume();
      return true;
    }
    const stdin = this.request.stdin;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        stdin.off('end', done);
        stdin.off('close', done);
        this.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      stdin.once('end', done);
      stdin.once('close', done);
      this.signal.addEventListener('abort', done, { once: true });
      stdin.resume();
    });
    return this.trace.stdinEnded;
  }

  async writeCgi(answer: CgiAnswer): Promise<void> {
    const bytes = cgiBytes(answer);
    const pieces = answer.pieces?.filter((n) => n > 0) ?? [];
    if (pieces.length === 0) await this.response.write(bytes);
    else {
      for (let at = 0, i = 0; at < bytes.length && !this.response.ended; i++) {
        const size = pieces[i % pieces.length]!;
        await this.response.write(bytes.subarray(at, at + size));
        at += size;
      }
    }
    this.response.end(answer.appStatus ?? 0);
  }

  writeRaw(bytes: Uint8Array): void {
    this.#conn.writeRaw(bytes);
  }

  takeOver(): void {
    this.#conn.tainted = true;
    this.#conn.suppressed.add(this.trace.requestId);
  }

  close(): void {
    this.#conn.closeAfterOutput();
  }
}

/** The bytes of a CGI response: `Status:` (when given), the headers, an empty line, the body. @see §6.1 */
export function cgiBytes(answer: CgiAnswer): Buffer {
  const lines = [...(answer.status === undefined ? [] : [`Status: ${answer.status}`]), ...(answer.headers ?? []).map(([n, v]) => `${n}: ${v}`)];
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  const body = answer.body === undefined ? Buffer.alloc(0) : typeof answer.body === 'string' ? Buffer.from(answer.body, 'utf8') : answer.body;
  return Buffer.concat([head, body]);
}

/** The answer to a request of no running scenario: the whole STDIN, then a small 200 response. */
async function defaultAnswer(ex: AnswerExchange, stdinWaitMs: number): Promise<void> {
  const ended = await ex.drainStdin(stdinWaitMs);
  const tag = ex.trace.tag;
  await ex.writeCgi({
    headers: [
      ['Content-Type', 'text/plain'],
      ['X-Fcgispec-Stdin-Bytes', String(ex.trace.stdinBytes)],
      ['X-Fcgispec-Stdin-Ended', String(ended)],
    ],
    body: `fcgispec backend: ${tag ? `${tag.scenario} ${tag.n}` : 'untagged request'}\n`,
  });
}

/** The instrumented backend. `startBackend` makes one. */
export class Backend implements ConnectionOwner {
  readonly handler: Handler;
  readonly limits = defaultResponderLimits;
  readonly roles: ReadonlySet<RoleName> = new Set(Object.values(roleNames));
  readonly multiplex: boolean;
  readonly maxConns = 1024;
  readonly maxReqs = 4096;
  readonly abortAppStatus = 0;
  readonly faults = new BindingFaults();
  readonly onRequestEnd: ((entry: RequestLogEntry) => void) | undefined = undefined;
  activeRequests = 0;

  readonly #t0 = performance.now();
  readonly #server: Server;
  readonly #connections = new Map<number, BackendConnection>();
  readonly #stdinWaitMs: number;
  #address: Address;
  #nextConnection = 0;
  #binding: Binding | undefined;
  #bound: Trace[] = [];
  #exchanges = new Set<Exchange>();
  #log: LogEntry[] = [];
  #logTail: LogEntry[] = [];
  #tailAt = 0;
  #logDropped = 0;
  #findings: BackendFinding[] = [];
  readonly #management: ManagementEntry[] = [];
  readonly #stray: Trace[] = [];

  constructor(server: Server, address: Address, options: BackendOptions) {
    this.#server = server;
    this.#address = address;
    this.multiplex = options.multiplex ?? true;
    this.#stdinWaitMs = options.stdinWaitMs ?? 5000;
    this.handler = (request, response) => this.#dispatch(request, response);
    server.on('connection', (socket) => this.#accept(socket));
  }

  /** Where the backend listens, as `tcp:HOST:PORT` or `unix:PATH`. */
  get address(): string {
    return formatAddress(this.#address);
  }

  /** Milliseconds since the backend started. */
  now(): number {
    return sinceStart(this.#t0);
  }

  /** Binds a scenario: its faults apply and its tagged requests go to its handler. */
  bind(binding: Binding): void {
    this.#binding = binding;
    this.faults.faults = binding.faults;
    this.#bound = [];
  }

  /** Unbinds the scenario; its held requests are released (their `signal` aborts). Returns its requests. */
  unbind(): readonly RequestTrace[] {
    const traces = this.#bound;
    this.#binding = undefined;
    this.faults.faults = [];
    this.#bound = [];
    for (const ex of this.#exchanges) ex.release();
    this.#exchanges.clear();
    return traces;
  }

  /** Requests begun while the current scenario is bound (tagged for it, or not yet tagged). */
  boundRequests(): readonly RequestTrace[] {
    return this.#bound;
  }

  /**
   * Closes the connections that the scenario's raw writes changed, and those where a request it
   * began is still active (a held or stalled request), so that no scenario leaves state to the next.
   */
  closeLeftovers(traces: readonly RequestTrace[]): number {
    let closed = 0;
    for (const conn of this.#connections.values()) {
      const held = traces.some((t) => t.conn === conn.index && t.ending === undefined);
      if (conn.closed || !(conn.tainted || held)) continue;
      this.log({ atMs: this.now(), dir: 'note', conn: conn.index, text: held ? 'the scenario ended with a request still active: closing its connection' : 'closing a connection the scenario wrote raw records on' });
      conn.destroy();
      closed++;
    }
    for (const conn of this.#connections.values()) conn.tainted = false;
    return closed;
  }

  /** Log lines since the last call: the first and the last ones, and how many between them were dropped. */
  takeLog(): { readonly lines: readonly TranscriptLine[]; readonly dropped: number } {
    const tail = this.#logTail.length < LOG_TAIL_LINES ? this.#logTail : [...this.#logTail.slice(this.#tailAt), ...this.#logTail.slice(0, this.#tailAt)];
    const gap: LogEntry[] = this.#logDropped > 0 && tail[0] ? [{ atMs: tail[0].atMs, dir: 'note', conn: tail[0].conn, text: `${this.#logDropped} log lines left out here (the backend keeps the first ${LOG_HEAD_LINES} and the last ${LOG_TAIL_LINES})` }] : [];
    const out = { lines: [...this.#log, ...gap, ...tail].map(logLine), dropped: this.#logDropped };
    this.#log = [];
    this.#logTail = [];
    this.#tailAt = 0;
    this.#logDropped = 0;
    return out;
  }

  /** Validator findings since the last call. */
  takeFindings(): readonly BackendFinding[] {
    const out = this.#findings;
    this.#findings = [];
    return out;
  }

  /** Every management record the web server sent. */
  managementLog(): readonly ManagementEntry[] {
    return this.#management;
  }

  /** Requests with no scenario's tag (bounded). */
  strayRequests(): readonly RequestTrace[] {
    return this.#stray;
  }

  /** Open connections from the web server. */
  get connectionCount(): number {
    let n = 0;
    for (const c of this.#connections.values()) if (!c.closed) n++;
    return n;
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const ex of this.#exchanges) ex.release();
    for (const c of this.#connections.values()) c.destroy();
    await closed;
    if (this.#address.kind === 'unix') await unlink(this.#address.path).catch(() => undefined);
  }

  // ---- for connections ----

  /** @internal */
  log(line: LogEntry): void {
    if (this.#log.length < LOG_HEAD_LINES) {
      this.#log.push(line);
      return;
    }
    if (this.#logTail.length < LOG_TAIL_LINES) {
      this.#logTail.push(line);
      return;
    }
    this.#logTail[this.#tailAt] = line;
    this.#tailAt = (this.#tailAt + 1) % LOG_TAIL_LINES;
    this.#logDropped++;
  }

  /** @internal */
  logRecord(dir: 'sent' | 'received', conn: number, atMs: number, record: DecodedRecord): void {
    // Only a copy of the header fields and the start of the content: the chunk the record views is not kept.
    const content = Buffer.from(record.content.subarray(0, keptContent(record.type)));
    this.log({ atMs, dir, conn, contentLength: record.content.length, record: { ...record, content, padding: EMPTY } });
  }

  /** @internal */
  addFinding(finding: ValidationFinding, conn: number, atMs: number): void {
    if (this.#findings.length < 1000) this.#findings.push({ finding, conn, atMs, scenario: this.#binding?.scenario });
  }

  /** @internal */
  management(type: number, conn: number, atMs: number, content: Uint8Array): void {
    const { pairs } = decodeNameValuePairs(content, { maxPairs: 64, maxPairLength: 4096 });
    if (this.#management.length < 1000) this.#management.push({ type, conn, atMs, names: pairs.map((p) => toText(p.name)) });
  }

  /** @internal */
  began(trace: Trace): void {
    if (this.#binding) this.#bound.push(trace);
    this.#binding?.onChange();
  }

  /** @internal */
  changed(): void {
    this.#binding?.onChange();
  }

  // ---- ConnectionOwner ----

  connectionError(connectionId: number, reason: string): void {
    this.log({ atMs: this.now(), dir: 'note', conn: connectionId - 1, text: `responder: ${reason}` });
  }

  connectionClosed(): void {}

  #accept(socket: Socket): void {
    socket.setNoDelay(true);
    const index = this.#nextConnection++;
    const conn = new BackendConnection(this, index, socket, this);
    this.#connections.set(index, conn);
    socket.once('close', () => {
      // Keep a closed connection only while its requests may still be read by the running scenario.
      setTimeout(() => this.#connections.delete(index), 60_000).unref();
    });
  }

  #dispatch(request: FcgiRequest, response: FcgiResponse): void | Promise<void> {
    const conn = this.#connections.get(request.connectionId - 1);
    const trace = conn?.traces.get(request.requestId);
    if (!conn || !trace) {
      response.end(0);
      return;
    }
    const ex = new Exchange(conn, trace, request, response);
    const binding = this.#binding;
    if (binding && trace.tag?.scenario === binding.scenario) {
      this.#exchanges.add(ex);
      return binding.answer(ex).finally(() => this.#exchanges.delete(ex));
    }
    if (this.#stray.length < 100) this.#stray.push(trace);
    const what = trace.tag ? `a request tagged for ${trace.tag.scenario} ${trace.tag.n}` : `a request without a scenario tag (REQUEST_URI ${JSON.stringify(trace.param('REQUEST_URI') ?? '')})`;
    this.log({ atMs: this.now(), dir: 'note', conn: conn.index, text: `${what}${binding ? ` while ${binding.scenario} runs` : ''}: default answer` });
    return defaultAnswer(ex, this.#stdinWaitMs);
  }
}

/** Starts the backend on `options.listen`; resolves once listening. */
export async function startBackend(options: BackendOptions): Promise<Backend> {
  const address = parseAddress(options.listen);
  if (address.kind === 'fd') throw new Error(`the backend listens on TCP or a Unix socket, not ${options.listen}`);
  const server = createServer({ allowHalfOpen: true, noDelay: true });
  server.on('error', () => {});
  if (address.kind === 'unix') await listenUnix(server, address.path);
  else await listenOn(server, { host: address.host, port: address.port });
  let bound: Address = address;
  if (address.kind === 'unix') await chmod(address.path, options.unixMode ?? 0o666);
  else {
    const a = server.address();
    if (a && typeof a === 'object') bound = { kind: 'tcp', host: address.host, port: a.port };
  }
  return new Backend(server, bound, options);
}
