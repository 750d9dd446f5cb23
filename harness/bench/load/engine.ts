/**
 * How the load reaches the application: `slots` requests can be in flight at once, and `start(slot, done)`
 * sends one on a slot and calls `done` exactly once with its outcome. Two engines:
 *
 * - `wire` (the default): `connections` sockets with `perConnection` slots each, every slot a fixed request
 *   id whose request bytes (FCGI_BEGIN_REQUEST, FCGI_PARAMS, FCGI_STDIN) are encoded once by the codec and
 *   written as they are, the answers read from the records the conformance tap has already decoded. One
 *   decode per byte, one write per request, no allocation per request but the outcome: so that at the rates
 *   a loopback target reaches, the application is the bottleneck, not fcgispec.
 * - `client`: the reference client's pool (`Client.request`) does the work, the tap only watches. Slower per
 *   request (buffered response, CGI parse, timers, promises), and a cross-check of the wire engine.
 * @see §3.3 §5.1 §5.5 §6.1
 */
import type { Socket } from 'node:net';
import {
  FCGI_BEGIN_REQUEST,
  FCGI_END_REQUEST,
  FCGI_KEEP_CONN,
  FCGI_PARAMS,
  FCGI_RESPONDER,
  FCGI_STDIN,
  FCGI_STDOUT,
} from '../../../spec/constants.ts';
import type { Address } from '../../../reference/address.ts';
import { encodeBeginRequestBody, decodeEndRequestBody } from '../../../reference/codec/bodies.ts';
import { encodeNameValuePairs } from '../../../reference/codec/name-value.ts';
import { concatBytes, encodeRecord, encodeStream, type DecodedRecord } from '../../../reference/codec/record.ts';
import { parseCgiHead } from '../../../reference/cgi.ts';
import { Client, ClientError, openTransport, type RequestOptions } from '../../../reference/client/index.ts';
import type { TapHub } from './tap.ts';

/** How one request ended: FCGI_END_REQUEST's protocolStatus, or an error (a client error code). */
export interface Outcome {
  readonly protocolStatus?: number;
  /** The CGI status of the answer's header block (`200`…), `none` when stdout does not start with one. */
  readonly cgiStatus?: string;
  readonly error?: string;
}

/** A load engine. */
export interface Engine {
  /** Requests that can be in flight at once. */
  readonly slots: number;
  /** Sends one request on `slot` (0 ≤ slot < slots, one at a time per slot); `done` is called once. */
  start(slot: number, done: (outcome: Outcome) => void): void;
  /** The most connections open at one time. */
  readonly peakConnections: number;
  /** Closes everything; what does not close in `graceMs` is destroyed. */
  close(graceMs: number): Promise<void>;
}

/** What both engines need. */
export interface EngineOptions {
  readonly address: Address;
  readonly connections: number;
  readonly perConnection: number;
  readonly params: readonly (readonly [string, string])[];
  readonly stdin: Uint8Array;
  readonly keepConn: boolean;
  readonly timeoutMs: number;
  readonly hub: TapHub;
}

/** Engine names, for the command line. */
export const engineNames = ['wire', 'client'] as const;
export type EngineName = (typeof engineNames)[number];

/** Makes the named engine. */
export function createEngine(name: EngineName, options: EngineOptions): Engine {
  return name === 'client' ? new ClientEngine(options) : new WireEngine(options);
}

// ---- the reference client ---------------------------------------------------------------------------------

// Params as the client encodes fastest: a plain object when every name is distinct, else the list as given.
function paramsInit(list: readonly (readonly [string, string])[]): NonNullable<RequestOptions['params']> {
  const names = new Set(list.map(([n]) => n));
  if (names.size !== list.length) return list;
  const out: Record<string, string> = {};
  for (const [n, v] of list) out[n] = v;
  return out;
}

class ClientEngine implements Engine {
  readonly slots: number;
  readonly #client: Client;
  readonly #request: RequestOptions;

  constructor(o: EngineOptions) {
    this.slots = o.connections * o.perConnection;
    this.#client = new Client(
      async () => {
        const socket = await openTransport(o.address, o.timeoutMs);
        o.hub.attach(socket as Socket);
        return socket;
      },
      {
        maxConnections: o.connections,
        multiplex: o.perConnection > 1,
        maxRequestsPerConnection: o.perConnection,
        keepConn: o.keepConn,
        idleTimeoutMs: 0,
        timeoutMs: o.timeoutMs,
        abortTimeoutMs: o.timeoutMs,
        connectTimeoutMs: o.timeoutMs,
      },
    );
    this.#request = { params: paramsInit(o.params), ...(o.stdin.length > 0 ? { stdin: o.stdin } : {}), keepConn: o.keepConn };
  }

  get peakConnections(): number {
    return this.#client.peakConnections;
  }

  start(_slot: number, done: (outcome: Outcome) => void): void {
    this.#client.request(this.#request).then(
      (res) => done({ protocolStatus: res.protocolStatus, cgiStatus: res.cgi ? String(res.cgi.status) : 'none' }),
      (err: unknown) => {
        if (!ClientError.is(err)) return done({ error: 'internal' });
        const status = err.end?.protocolStatus ?? err.protocolStatus;
        done(status === undefined ? { error: err.code } : { error: err.code, protocolStatus: status });
      },
    );
  }

  async close(graceMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([this.#client.close().then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), graceMs)))]);
    clearTimeout(timer);
    if (late) this.#client.destroy();
  }
}

// ---- the wire engine --------------------------------------------------------------------------------------

/** The bytes of one request on one id: FCGI_BEGIN_REQUEST, the FCGI_PARAMS stream, the FCGI_STDIN stream. @see §5.1 §5.2 §5.3 */
export function encodeRequest(requestId: number, params: readonly (readonly [string, string])[], stdin: Uint8Array, keepConn: boolean): Buffer {
  const begin = encodeRecord({ type: FCGI_BEGIN_REQUEST, requestId, content: encodeBeginRequestBody({ role: FCGI_RESPONDER, flags: keepConn ? FCGI_KEEP_CONN : 0 }) });
  const bytes = concatBytes([begin, encodeStream(FCGI_PARAMS, requestId, encodeNameValuePairs(params)), encodeStream(FCGI_STDIN, requestId, stdin)]);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

// The CGI status at the front of a request's first stdout bytes (`none` when they hold no header block).
function parseCgiStatus(content: Uint8Array): string {
  const head = parseCgiHead(content);
  return head.kind === 'head' ? String(head.head.status) : head.kind === 'incomplete' ? 'cut' : 'none';
}

/** First stdout records at most this long are remembered by `CgiStatusMemo`. */
const MEMO_MAX_BYTES = 2048;

/**
 * `parseCgiStatus` with the last answer remembered: under load the application sends the same first stdout
 * record again and again, and comparing bytes costs a fraction of parsing a header block (it was a tenth of
 * the engine's time against php-fpm). The status is a function of the bytes alone, so a hit is exact.
 */
export class CgiStatusMemo {
  #bytes: Buffer | undefined;
  #status = '';

  statusOf(content: Uint8Array): string {
    const last = this.#bytes;
    if (last !== undefined && last.length === content.length && last.equals(content)) return this.#status;
    const status = parseCgiStatus(content);
    if (content.length <= MEMO_MAX_BYTES) {
      this.#bytes = Buffer.from(content); // a copy: the decoder may hand out views of a reused chunk
      this.#status = status;
    }
    return status;
  }
}

interface Pending {
  readonly done: (outcome: Outcome) => void;
  readonly sentAt: number;
  cgiStatus: string | undefined;
}

/** One socket and the requests in flight on it, by request id. */
class WireConnection {
  readonly socket: Socket;
  readonly #pending: (Pending | undefined)[];
  #inFlight = 0;
  #lastData = performance.now();
  #closed = false;
  #why = 'E_CLOSED';
  #corked = false;

  readonly #closedHook: () => void;

  readonly #cgi = new CgiStatusMemo();

  constructor(socket: Socket, perConnection: number, hub: TapHub, onClose: () => void) {
    this.socket = socket;
    this.#closedHook = onClose;
    this.#pending = new Array<Pending | undefined>(perConnection + 1);
    hub.attach(socket, { records: (records) => this.#onRecords(records) });
    socket.on('error', () => {}); // the close that follows settles what is in flight
    socket.on('close', () => this.#onClose());
  }

  get closed(): boolean {
    return this.#closed;
  }
  get inFlight(): number {
    return this.#inFlight;
  }

  send(requestId: number, bytes: Buffer, done: (outcome: Outcome) => void): void {
    if (this.#closed) return done({ error: 'E_CLOSED' });
    this.#pending[requestId] = { done, sentAt: performance.now(), cgiStatus: undefined };
    this.#inFlight++;
    // Requests started from one chunk's answers leave in one write.
    if (!this.#corked) {
      this.#corked = true;
      this.socket.cork();
      process.nextTick(this.#uncork);
    }
    this.socket.write(bytes);
  }

  readonly #uncork = (): void => {
    this.#corked = false;
    this.socket.uncork();
  };

  /** Fails the requests that have heard nothing for `timeoutMs` by closing the connection. */
  checkTimeout(now: number, timeoutMs: number): void {
    if (this.#closed || this.#inFlight === 0) return;
    for (const p of this.#pending) {
      if (p && now - Math.max(p.sentAt, this.#lastData) > timeoutMs) {
        this.#why = 'E_TIMEOUT';
        this.socket.destroy();
        return;
      }
    }
  }

  #onRecords(records: readonly DecodedRecord[]): void {
    this.#lastData = performance.now();
    const pending = this.#pending;
    // Outcomes go out after the whole chunk: a request started from one must not take the chunk's later
    // records (a duplicate FCGI_END_REQUEST, say) for its own.
    let ended: (() => void)[] | undefined;
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      const p = pending[r.requestId];
      // Records for an id with nothing in flight are the tap's business (it judges them), not ours.
      if (p === undefined) continue;
      if (r.type === FCGI_STDOUT) {
        if (p.cgiStatus === undefined && r.content.length > 0) p.cgiStatus = this.#cgi.statusOf(r.content);
      } else if (r.type === FCGI_END_REQUEST) {
        pending[r.requestId] = undefined;
        this.#inFlight--;
        const protocolStatus = decodeEndRequestBody(r.content).protocolStatus;
        const outcome: Outcome = protocolStatus === 0 ? { protocolStatus, cgiStatus: p.cgiStatus ?? 'none' } : { protocolStatus, error: 'E_REJECTED' };
        (ended ??= []).push(() => p.done(outcome));
      }
    }
    if (ended) for (const settle of ended) settle();
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    const pending = this.#pending;
    for (let id = 0; id < pending.length; id++) {
      const p = pending[id];
      if (!p) continue;
      pending[id] = undefined;
      p.done({ error: this.#why });
    }
    this.#inFlight = 0;
    this.#closedHook();
  }
}

// One connection's worth of slots: the connection (re)opened on demand, starts waiting for it meanwhile.
interface Group {
  conn: WireConnection | undefined;
  opening: boolean;
  readonly waiting: { readonly requestId: number; readonly done: (outcome: Outcome) => void }[];
}

class WireEngine implements Engine {
  readonly slots: number;
  readonly #o: EngineOptions;
  readonly #requests: Buffer[];
  readonly #groups: Group[];
  readonly #open = new Set<WireConnection>();
  readonly #timer: NodeJS.Timeout;
  #peak = 0;
  #closing = false;

  constructor(o: EngineOptions) {
    this.#o = o;
    this.slots = o.connections * o.perConnection;
    // Request ids 1..perConnection, each with its bytes made once (a slot never has two requests in flight).
    this.#requests = Array.from({ length: o.perConnection + 1 }, (_, id) => (id === 0 ? Buffer.alloc(0) : encodeRequest(id, o.params, o.stdin, o.keepConn)));
    this.#groups = Array.from({ length: o.connections }, () => ({ conn: undefined, opening: false, waiting: [] }));
    this.#timer = setInterval(() => {
      const now = performance.now();
      for (const c of this.#open) c.checkTimeout(now, o.timeoutMs);
    }, Math.max(10, Math.min(1000, o.timeoutMs / 4)));
    this.#timer.unref();
  }

  get peakConnections(): number {
    return this.#peak;
  }

  start(slot: number, done: (outcome: Outcome) => void): void {
    const per = this.#o.perConnection;
    const requestId = (slot % per) + 1;
    if (!this.#o.keepConn) {
      // Without FCGI_KEEP_CONN the application closes after the request: a connection of its own each time.
      void this.#connect().then(
        (conn) => conn.send(requestId, this.#requests[requestId]!, (outcome) => {
          conn.socket.end();
          done(outcome);
        }),
        () => done({ error: 'E_CONNECT' }),
      );
      return;
    }
    const group = this.#groups[Math.floor(slot / per)]!;
    const conn = group.conn;
    if (conn && !conn.closed) return conn.send(requestId, this.#requests[requestId]!, done);
    group.waiting.push({ requestId, done });
    if (group.opening) return;
    group.opening = true;
    this.#connect().then(
      (c) => {
        group.opening = false;
        group.conn = c;
        for (const w of group.waiting.splice(0)) c.send(w.requestId, this.#requests[w.requestId]!, w.done);
      },
      () => {
        group.opening = false;
        for (const w of group.waiting.splice(0)) w.done({ error: 'E_CONNECT' });
      },
    );
  }

  async #connect(): Promise<WireConnection> {
    if (this.#closing) throw new Error('closing');
    const socket = (await openTransport(this.#o.address, this.#o.timeoutMs)) as Socket;
    const conn: WireConnection = new WireConnection(socket, this.#o.perConnection, this.#o.hub, () => this.#open.delete(conn));
    this.#open.add(conn);
    this.#peak = Math.max(this.#peak, this.#open.size);
    // A connection that lingers after its one request (no FCGI_KEEP_CONN) must not outlive the timeout.
    if (!this.#o.keepConn) setTimeout(() => socket.destroy(), this.#o.timeoutMs).unref();
    return conn;
  }

  async close(graceMs: number): Promise<void> {
    this.#closing = true;
    clearInterval(this.#timer);
    const closing = [...this.#open].map((c) => new Promise<void>((resolve) => {
      c.socket.once('close', () => resolve());
      c.socket.end();
    }));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(closing), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    for (const c of this.#open) c.socket.destroy();
  }
}

