/**
 * A pool of client connections to one application: at most `maxConnections` at once, each carrying at most
 * one request (or, when the application multiplexes, `maxRequestsPerConnection`); connections are kept
 * between requests (FCGI_KEEP_CONN) and closed after `idleTimeoutMs`, or opened per request when `keepConn`
 * is false, in which case the application closes them (§3.5).
 * @see §3.5 §4.1 (FCGI_MAX_CONNS, FCGI_MAX_REQS, FCGI_MPXS_CONNS)
 */
import type { Duplex } from 'node:stream';
import { FCGI_MAX_CONNS, FCGI_MAX_REQS, FCGI_MPXS_CONNS } from '../../spec/constants.ts';
import { encodeParams } from './encode.ts';
import type { Address } from '../address.ts';
import { ClientConnection, kStart, openTransport } from './connection.ts';
import { ClientError } from './errors.ts';
import { bufferedSink, streamSink, type Sink } from './sinks.ts';
import type { ConnectionOptions, RequestOptions, RequestResult, ResponseStream } from './types.ts';

/** Where a client connects: an address as users write it, a parsed address, or a factory of any Duplex. */
export type ConnectTarget = string | Address | (() => Duplex | Promise<Duplex>);

/** Options of a pooled client. */
export interface ClientOptions extends Omit<ConnectionOptions, 'maxConcurrent' | 'index'> {
  /** Connect timeout (default 10 000 ms). */
  readonly connectTimeoutMs?: number;
  /** Most connections open (or opening) at once (default 8); lowered to the application's FCGI_MAX_CONNS. */
  readonly maxConnections?: number;
  /**
   * Send several requests at once over one connection: `true`, `false`, or `'auto'` (default) to ask
   * FCGI_GET_VALUES on the first connection and multiplex only if the application answers FCGI_MPXS_CONNS=1.
   */
  readonly multiplex?: boolean | 'auto';
  /** Requests at once per connection when multiplexing (default 64); lowered to FCGI_MAX_REQS. */
  readonly maxRequestsPerConnection?: number;
  /** Default of `RequestOptions.keepConn` (default true). */
  readonly keepConn?: boolean;
  /** Close a kept connection after this long without requests (default 30 000 ms; 0 keeps it). */
  readonly idleTimeoutMs?: number;
  /** How long the `'auto'` probe waits for FCGI_GET_VALUES_RESULT (default 2 000 ms). */
  readonly probeTimeoutMs?: number;
  /** Called with each connection as it opens (to read its transcript, say). */
  readonly onConnection?: (conn: ClientConnection) => void;
}

/** What the application said about itself, from the `'auto'` probe. @see §4.1 */
export interface Capabilities {
  readonly mpxsConns: boolean | undefined;
  readonly maxConns: number | undefined;
  readonly maxReqs: number | undefined;
  /** The probe's outcome when there are no values: `unknown-type`, `timeout`, `closed`, … */
  readonly note?: string;
}

interface Entry {
  readonly conn: ClientConnection;
  idleTimer: NodeJS.Timeout | undefined;
}

interface Waiter {
  readonly options: RequestOptions;
  readonly keepConn: boolean;
  readonly signal?: AbortSignal | undefined;
  readonly attempt: number;
  /** Set for a management query: any open connection will do. */
  readonly management?: (conn: ClientConnection) => void;
  readonly sink: Sink | undefined;
  readonly fail: (err: ClientError) => void;
  removeSignal: (() => void) | undefined;
}

const PROBE_NAMES = [FCGI_MAX_CONNS, FCGI_MAX_REQS, FCGI_MPXS_CONNS];

/**
 * A FastCGI client (web-server role) to one application, with a connection pool.
 * @example
 * const client = new Client('tcp:127.0.0.1:9000');
 * const res = await client.request({ params: { SCRIPT_FILENAME: '/srv/hello.php', REQUEST_METHOD: 'GET' } });
 * console.log(res.cgi?.status, res.cgi?.body.toString());
 * await client.close();
 */
export class Client {
  readonly #target: ConnectTarget;
  readonly #options: ClientOptions;
  readonly #entries = new Set<Entry>();
  readonly #queue: Waiter[] = [];
  readonly #t0: number;
  #connecting = 0;
  #opened = 0;
  #maxConnections: number;
  #perConnection: number;
  #probe: 'todo' | 'pending' | 'done';
  #capabilities: Capabilities | undefined;
  #closing = false;
  #destroyed = false;
  #closeWaiters: (() => void)[] = [];
  #maxOpen = 0;

  constructor(target: ConnectTarget, options: ClientOptions = {}) {
    this.#target = target;
    this.#options = options;
    this.#t0 = options.clockOrigin ?? performance.now();
    this.#maxConnections = Math.max(1, Math.floor(options.maxConnections ?? 8));
    const multiplex = options.multiplex ?? 'auto';
    this.#perConnection = multiplex === true ? this.#maxPerConnection() : 1;
    // Without FCGI_KEEP_CONN every connection carries one request, so there is nothing to ask.
    this.#probe = multiplex === 'auto' && options.keepConn !== false ? 'todo' : 'done';
  }

  /** Connections open or opening now. */
  get connections(): number {
    return this.#entries.size + this.#connecting;
  }
  /** The most connections that were open or opening at one time. */
  get peakConnections(): number {
    return this.#maxOpen;
  }
  /** Requests waiting for a connection. */
  get queuedRequests(): number {
    return this.#queue.length;
  }
  /** What the `'auto'` probe learned, once it has finished. */
  get capabilities(): Capabilities | undefined {
    return this.#capabilities;
  }
  /** Requests at once per connection, as now decided. */
  get requestsPerConnection(): number {
    return this.#perConnection;
  }

  /** Sends a request and buffers its response. @see ClientConnection.request */
  request(options: RequestOptions = {}): Promise<RequestResult> {
    const max = options.maxResponseBytes ?? this.#options.maxResponseBytes ?? 64 * 1024 * 1024;
    const { promise, sink } = bufferedSink(max, this.#options.maxCgiHeaderBytes);
    this.#submit(options, sink);
    return promise;
  }

  /** Sends a request and streams its response. @see ClientConnection.stream */
  stream(options: RequestOptions = {}): ResponseStream {
    const own = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, own.signal]) : own.signal;
    const { handle, sink } = streamSink((reason) => own.abort(reason));
    this.#submit(options, sink, signal);
    return handle;
  }

  /** FCGI_GET_VALUES over a pooled connection. @see ClientConnection.getValues */
  async getValues(names: Iterable<string>, options: { readonly timeoutMs?: number } = {}): Promise<Map<string, string>> {
    const list = [...names];
    if (encodeParams(list.map((n) => [n, ''] as const)).length > 0xffff) {
      throw new ClientError('E_USAGE', 'the FCGI_GET_VALUES query does not fit one record');
    }
    const conn = await new Promise<ClientConnection>((resolve, reject) => {
      if (this.#closing) return reject(new ClientError('E_CLOSED', 'the client is closed'));
      this.#queue.push({ options: {}, keepConn: true, management: resolve, sink: undefined, fail: reject, attempt: 0, removeSignal: undefined });
      this.#dispatch();
    });
    return conn.getValues(list, options);
  }

  /** Takes no new requests, lets queued and running ones finish, then closes every connection. */
  close(): Promise<void> {
    this.#closing = true;
    const done = new Promise<void>((resolve) => this.#closeWaiters.push(resolve));
    this.#dispatch();
    return done;
  }

  /** Closes everything at once; waiting and running requests fail with E_CLOSED. */
  destroy(): void {
    this.#closing = true;
    this.#destroyed = true;
    for (const w of this.#queue.splice(0)) {
      w.removeSignal?.();
      w.fail(new ClientError('E_CLOSED', 'the client was destroyed'));
    }
    for (const e of [...this.#entries]) e.conn.destroy('the client was destroyed');
    this.#checkClosed();
  }

  #submit(options: RequestOptions, sink: Sink, signal = options.signal): void {
    const fail = (err: ClientError): void => sink.settle(undefined, { code: err.code, message: err.message, ...(err.cause === undefined ? {} : { cause: err.cause }) });
    if (this.#closing) return fail(new ClientError('E_CLOSED', 'the client is closed'));
    if (signal?.aborted) return sink.settle(undefined, { code: 'E_ABORTED', message: 'the request was aborted before it started', cause: signal.reason });
    this.#enqueue({ options, keepConn: options.keepConn ?? this.#options.keepConn ?? true, signal, sink, fail, attempt: 0, removeSignal: undefined }, false);
    this.#dispatch();
  }

  #enqueue(waiter: Waiter, front: boolean): void {
    const { signal, sink } = waiter;
    if (signal && sink) {
      const onAbort = (): void => {
        const i = this.#queue.indexOf(waiter);
        if (i < 0) return;
        this.#queue.splice(i, 1);
        sink.settle(undefined, { code: 'E_ABORTED', message: 'the request was aborted while waiting for a connection', cause: signal.reason });
      };
      signal.addEventListener('abort', onAbort, { once: true });
      waiter.removeSignal = () => signal.removeEventListener('abort', onAbort);
    }
    if (front) this.#queue.unshift(waiter);
    else this.#queue.push(waiter);
  }

  // Gives waiting requests to connections with room, opening connections while under the limit.
  #dispatch(): void {
    while (this.#queue.length > 0) {
      const w = this.#queue[0]!;
      const entry = this.#pick(w);
      if (!entry) break;
      this.#queue.shift();
      w.removeSignal?.();
      clearTimeout(entry.idleTimer);
      entry.idleTimer = undefined;
      if (w.management) w.management(entry.conn);
      else entry.conn[kStart](w.options, w.sink!, w.keepConn, w.signal, w.attempt);
    }
    // Open connections for the requests that found no room, counting what is already on its way.
    let waiting = this.#queue.length - this.#connecting * this.#perConnection;
    while (waiting > 0 && !this.#destroyed && this.connections < this.#maxConnections) {
      this.#open();
      waiting -= this.#perConnection;
    }
    this.#idleAndClose();
  }

  #pick(w: Waiter): Entry | undefined {
    let best: Entry | undefined;
    for (const e of this.#entries) {
      const c = e.conn;
      if (w.management) {
        if (!c.closed) return e;
        continue;
      }
      if (!c.acceptsRequests || c.activeRequests >= Math.min(this.#perConnection, c.maxConcurrent)) continue;
      // A request without FCGI_KEEP_CONN ends its connection: give it an idle one, never one shared with others.
      if (!w.keepConn && c.activeRequests > 0) continue;
      // Fill busy connections first, so a multiplexing application sees few connections.
      if (!best || c.activeRequests > best.conn.activeRequests) best = e;
    }
    return best;
  }

  #open(): void {
    this.#connecting++;
    this.#maxOpen = Math.max(this.#maxOpen, this.connections);
    const index = this.#opened++;
    void this.#connect().then(
      (duplex) => {
        this.#connecting--;
        const conn = new ClientConnection(duplex, { ...this.#options, index, clockOrigin: this.#t0, maxConcurrent: this.#perConnection }, {
          slotFreed: () => this.#dispatch(),
          retry: (options, sink, keepConn, signal, attempt) => {
            if (this.#destroyed) return false;
            const fail = (err: ClientError): void => sink.settle(undefined, { code: err.code, message: err.message });
            this.#enqueue({ options, keepConn, signal, sink, fail, attempt, removeSignal: undefined }, true);
            return true;
          },
          cantMultiplex: () => this.#setPerConnection(1),
          closed: (c) => {
            for (const e of this.#entries) if (e.conn === c) {
              clearTimeout(e.idleTimer);
              this.#entries.delete(e);
            }
            this.#dispatch();
          },
        });
        if (this.#destroyed) return conn.destroy('the client was destroyed');
        if (conn.closed) return this.#dispatch();
        this.#entries.add({ conn, idleTimer: undefined });
        this.#options.onConnection?.(conn);
        if (this.#probe === 'todo') this.#runProbe(conn);
        this.#dispatch();
      },
      (err: unknown) => {
        this.#connecting--;
        const error = ClientError.is(err) ? err : new ClientError('E_CONNECT', `cannot connect: ${String(err)}`, {}, { cause: err });
        // The request this connection was for fails with the reason; the others try again.
        const w = this.#queue.shift();
        w?.removeSignal?.();
        w?.fail(error);
        this.#dispatch();
      },
    );
  }

  async #connect(): Promise<Duplex> {
    const t = this.#target;
    if (typeof t !== 'function') return openTransport(t, this.#options.connectTimeoutMs);
    const ms = this.#options.connectTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const opening = Promise.resolve().then(t);
    try {
      return await Promise.race([
        opening,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            timedOut = true;
            reject(new Error(`no transport within ${ms} ms`));
          }, ms);
        }),
      ]);
    } catch (err) {
      // A transport that turns up after the deadline is not wanted.
      if (timedOut) void opening.then((d) => d.destroy(), () => {});
      throw new ClientError('E_CONNECT', `cannot connect: ${err instanceof Error ? err.message : String(err)}`, {}, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  // Asks the first connection what the application can do; requests go one per connection meanwhile.
  #runProbe(conn: ClientConnection): void {
    this.#probe = 'pending';
    const timeoutMs = this.#options.probeTimeoutMs ?? 2_000;
    conn.getValues(PROBE_NAMES, { timeoutMs }).then(
      (values) => {
        const int = (name: string): number | undefined => {
          const v = values.get(name);
          const n = v === undefined ? NaN : Number(v);
          return Number.isInteger(n) && n > 0 ? n : undefined;
        };
        const mpxs = values.get(FCGI_MPXS_CONNS);
        const caps: Capabilities = { mpxsConns: mpxs === undefined ? undefined : mpxs.trim() === '1', maxConns: int(FCGI_MAX_CONNS), maxReqs: int(FCGI_MAX_REQS) };
        this.#capabilities = caps;
        this.#probe = 'done';
        if (caps.maxConns !== undefined) this.#maxConnections = Math.min(this.#maxConnections, caps.maxConns);
        if (caps.mpxsConns) this.#setPerConnection(Math.min(this.#maxPerConnection(), caps.maxReqs ?? Infinity));
        this.#dispatch();
      },
      (err: unknown) => {
        const note = ClientError.is(err) ? err.code.slice(2).toLowerCase().replace('_', '-') : 'error';
        this.#capabilities = { mpxsConns: undefined, maxConns: undefined, maxReqs: undefined, note };
        this.#probe = 'done';
      },
    );
  }

  #maxPerConnection(): number {
    return Math.max(1, Math.floor(this.#options.maxRequestsPerConnection ?? 64));
  }

  #setPerConnection(n: number): void {
    this.#perConnection = Math.max(1, n);
    for (const e of this.#entries) e.conn.maxConcurrent = this.#perConnection;
    this.#dispatch();
  }

  // Starts idle timers, and closes idle connections when the client is closing.
  #idleAndClose(): void {
    const idleMs = this.#options.idleTimeoutMs ?? 30_000;
    for (const e of this.#entries) {
      const c = e.conn;
      if (c.activeRequests > 0 || c.closed) continue;
      if (this.#closing && this.#queue.length === 0) {
        void c.close();
        continue;
      }
      if (idleMs > 0 && !e.idleTimer) {
        e.idleTimer = setTimeout(() => void c.close(), idleMs);
        e.idleTimer.unref();
      }
    }
    this.#checkClosed();
  }

  #checkClosed(): void {
    if (!this.#closing || this.#entries.size > 0 || this.#connecting > 0 || this.#queue.length > 0) return;
    for (const resolve of this.#closeWaiters.splice(0)) resolve();
  }
}
