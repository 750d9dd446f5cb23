/**
 * One transport connection to a FastCGI application, in the web-server role: many requests multiplexed over
 * it, each with the smallest free request id, plus management queries. Works over any Duplex.
 *
 * Everything the application sends is bounded: one record in progress (the decoder), `maxResponseBytes` per
 * buffered request, `timeoutMs` of silence per request, `abortTimeoutMs` for an abort's answer. Anything the
 * protocol does not allow fails the requests it affects with E_PROTOCOL; nothing throws out of an event.
 * @see §3.3 §3.5 §4 §5
 */
import type { Duplex } from 'node:stream';
import {
  FCGI_ABORT_REQUEST,
  FCGI_BEGIN_REQUEST,
  FCGI_CANT_MPX_CONN,
  FCGI_DATA,
  FCGI_END_REQUEST,
  FCGI_FILTER,
  FCGI_FIXED_BODY_LEN,
  FCGI_GET_VALUES,
  FCGI_GET_VALUES_RESULT,
  FCGI_HEADER_LEN,
  FCGI_KEEP_CONN,
  FCGI_MAX_CONTENT_LENGTH,
  FCGI_NULL_REQUEST_ID,
  FCGI_PARAMS,
  FCGI_REQUEST_COMPLETE,
  FCGI_STDERR,
  FCGI_STDIN,
  FCGI_STDOUT,
  FCGI_UNKNOWN_TYPE,
  FCGI_VERSION_1,
  protocolStatusName,
  recordTypeName,
  roleNumbers,
  type RoleName,
} from '../../spec/constants.ts';
import { RecordDecoder, writeHeader, type DecodedRecord } from '../codec/record.ts';
import { decodeEndRequestBody, decodeUnknownTypeBody, encodeBeginRequestBody } from '../codec/bodies.ts';
import { decodeNameValuePairs, toText } from '../codec/name-value.ts';
import { AddressError, connectTo, formatAddress, parseAddress, type Address } from '../address.ts';
import type { CloseKind, TranscriptEntry } from './raw-connection.ts';
import { ClientError, hexOf, type ClientErrorDetails } from './errors.ts';
import { RecordBatch, encodeParams, padder, type Padder } from './encode.ts';
import { bufferedSink, streamSink, type Failure, type Sink } from './sinks.ts';
import type { BodyInit, ConnectionOptions, ManagementReply, RequestEnd, RequestOptions, RequestResult, ResponseStream, TrafficEvent } from './types.ts';

const EMPTY = new Uint8Array(0);
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
const DEFAULTS = {
  maxConcurrent: 1,
  maxResponseBytes: 64 * 1024 * 1024,
  timeoutMs: 30_000,
  abortTimeoutMs: 5_000,
  transcriptBytes: 256 * 1024,
} as const;
// Distinct deviations kept per request; more are counted in the last line.
const MAX_ANOMALIES = 16;

/** @internal How a pool learns what happens on its connections. */
export interface ConnectionHooks {
  /** A request settled or its id was freed: a slot may be free. */
  slotFreed?(conn: ClientConnection): void;
  /**
   * The connection closed under a request that may be sent again (see `mayRetry`): return true to take it
   * over (the connection then leaves it unsettled), false to let it fail with E_CLOSED.
   */
  retry?(options: RequestOptions, sink: Sink, keepConn: boolean, signal: AbortSignal | undefined, attempt: number): boolean;
  /** The application answered FCGI_CANT_MPX_CONN. */
  cantMultiplex?(conn: ClientConnection): void;
  closed?(conn: ClientConnection): void;
}

/** @internal Starts a request with a given sink (used by the pool). */
export const kStart = Symbol('fcgispec.client.start');

interface InFlight {
  readonly id: number;
  readonly options: RequestOptions;
  readonly keepConn: boolean;
  readonly signal: AbortSignal | undefined;
  readonly sink: Sink;
  /** 0 for a first attempt; retries count up. */
  readonly attempt: number;
  /** Sent on a connection that had already finished a request (a kept connection the application may have dropped). */
  readonly reused: boolean;
  /** A record for it has arrived. */
  received: boolean;
  readonly timeoutMs: number;
  /** How its records are padded and cut (`RequestOptions.records`, else the connection's). */
  readonly pad: Padder;
  readonly maxContent: number;
  timer: NodeJS.Timeout | undefined;
  abortTimer: NodeJS.Timeout | undefined;
  removeSignal: (() => void) | undefined;
  /** The caller has its outcome; records still arriving for the id are dropped until FCGI_END_REQUEST. */
  settled: boolean;
  abortSent: boolean;
  /** Aborted by the caller: FCGI_END_REQUEST settles it as E_ABORTED. */
  abortReason: { readonly reason: unknown } | undefined;
  stdoutEnded: boolean;
  stderrEnded: boolean;
  stdoutBytes: number;
  stderrBytes: number;
  anomalies: string[] | undefined;
  anomalyCount: number;
}

interface ManagementWaiter {
  readonly type: number;
  readonly resolve: (reply: ManagementReply) => void;
  readonly reject: (err: ClientError) => void;
  timer: NodeJS.Timeout | undefined;
  /** Timed out: still in line, so that its late reply is not taken for the next query's. */
  expired: boolean;
}

interface Queued {
  readonly options: RequestOptions;
  readonly sink: Sink;
  readonly keepConn: boolean | undefined;
  readonly signal: AbortSignal | undefined;
  readonly attempt: number;
  removeSignal: (() => void) | undefined;
}

/** Options to open a connection by address. */
export interface ConnectOptions extends ConnectionOptions {
  /** Connect timeout (default 10 000 ms). */
  readonly connectTimeoutMs?: number;
}

/** Opens a stream connection to an address as users write it (`tcp:H:P`, `H:P`, `unix:PATH`); E_CONNECT on failure. */
export async function openTransport(target: string | Address, connectTimeoutMs = 10_000): Promise<Duplex> {
  let address: Address;
  try {
    address = typeof target === 'string' ? parseAddress(target) : target;
  } catch (err) {
    throw new ClientError('E_USAGE', err instanceof AddressError ? err.message : String(err), {}, { cause: err });
  }
  try {
    return await connectTo(address, connectTimeoutMs);
  } catch (err) {
    const reason = err instanceof Error ? ((err as NodeJS.ErrnoException).code ?? err.message) : String(err);
    throw new ClientError('E_CONNECT', `cannot connect to ${formatAddress(address)}: ${reason}`, {}, { cause: err });
  }
}

/**
 * A FastCGI client connection (web-server role) over any Duplex: TCP, Unix socket, or an in-memory pair.
 * @see §3.3 (request ids) §3.5 (closing) §5.4 (abort)
 */
export class ClientConnection {
  readonly #socket: Duplex;
  readonly #hooks: ConnectionHooks;
  readonly #decoder = new RecordDecoder();
  readonly #requests = new Map<number, InFlight>();
  readonly #queue: Queued[] = [];
  readonly #management: ManagementWaiter[] = [];
  readonly #paused = new Set<InFlight>();
  readonly #t0: number;
  readonly #index: number;
  readonly #onTraffic: ((event: TrafficEvent) => void) | undefined;
  readonly #pad: Padder;
  readonly #maxContent: number;
  readonly #maxResponseBytes: number;
  readonly #timeoutMs: number;
  readonly #abortTimeoutMs: number;
  readonly #maxCgiHeaderBytes: number | undefined;
  #maxConcurrent: number;
  #transcript: TranscriptEntry[] | undefined;
  #transcriptRoom = 0;
  #omittedBytes = 0;
  #lastChunk: Uint8Array | undefined;
  #closeInfo: { readonly how: CloseKind; readonly detail: string } | undefined;
  /** No new requests: a request without FCGI_KEEP_CONN is in flight, or `close()` was called. */
  #closing = false;
  /** Why the connection takes no new requests and closes once no request is waiting for an answer. */
  #retiring: string | undefined;
  #corked = false;
  #completed = 0;
  #drain: Promise<void> | undefined;
  #drainResolve: (() => void) | undefined;
  #anomalies: string[] = [];
  readonly #closedPromise: Promise<void>;
  #closedResolve!: () => void;

  constructor(socket: Duplex, options: ConnectionOptions = {}, hooks: ConnectionHooks = {}) {
    this.#socket = socket;
    this.#hooks = hooks;
    this.#t0 = options.clockOrigin ?? performance.now();
    this.#index = options.index ?? 0;
    this.#onTraffic = options.onTraffic;
    this.#pad = padder(options.padding);
    this.#maxContent = options.maxRecordContent ?? FCGI_MAX_CONTENT_LENGTH;
    this.#maxResponseBytes = options.maxResponseBytes ?? DEFAULTS.maxResponseBytes;
    this.#timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
    this.#abortTimeoutMs = options.abortTimeoutMs ?? DEFAULTS.abortTimeoutMs;
    this.#maxCgiHeaderBytes = options.maxCgiHeaderBytes;
    this.#maxConcurrent = Math.max(1, Math.floor(options.maxConcurrent ?? DEFAULTS.maxConcurrent));
    if (options.transcript) {
      this.#transcript = [];
      this.#transcriptRoom = options.transcript === true ? DEFAULTS.transcriptBytes : options.transcript;
    }
    this.#closedPromise = new Promise((resolve) => (this.#closedResolve = resolve));
    socket.on('data', (chunk: Buffer | string) => this.#onData(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
    socket.on('end', () => this.#onClose('end', 'the application closed the connection'));
    socket.on('close', () => this.#onClose('end', 'the connection closed'));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const how: CloseKind = err.code === 'ECONNRESET' || err.code === 'EPIPE' ? 'reset' : 'error';
      this.#onClose(how, err.code ?? err.message);
    });
    if (socket.destroyed) this.#onClose('local', 'the transport was already destroyed');
  }

  /** Connects to `tcp:HOST:PORT`, `HOST:PORT` or `unix:PATH`. Rejects with E_CONNECT (or E_USAGE for a bad address). */
  static async connect(target: string | Address, options: ConnectOptions = {}): Promise<ClientConnection> {
    return new ClientConnection(await openTransport(target, options.connectTimeoutMs), options);
  }

  /** Requests holding an id on this connection, including ones settled for the caller but not yet ended by the application. */
  get activeRequests(): number {
    return this.#requests.size;
  }
  /** Requests waiting for a free slot on this connection. */
  get queuedRequests(): number {
    return this.#queue.length;
  }
  /** Whether new requests can start here (not closed, not closing, not retired). */
  get acceptsRequests(): boolean {
    return !this.#closeInfo && !this.#closing && this.#retiring === undefined;
  }
  get closed(): boolean {
    return this.#closeInfo !== undefined;
  }
  /** How the connection closed, once it has. */
  get closeInfo(): { readonly how: CloseKind; readonly detail: string } | undefined {
    return this.#closeInfo;
  }
  /** Resolves once the connection has closed, for whatever reason. Never rejects. */
  whenClosed(): Promise<void> {
    return this.#closedPromise;
  }
  get maxConcurrent(): number {
    return this.#maxConcurrent;
  }
  /** Raising it starts queued requests. */
  set maxConcurrent(value: number) {
    this.#maxConcurrent = Math.max(1, Math.floor(value));
    this.#startQueued();
  }
  /** The transcript, when enabled (`transcript` option); capped, see `omittedBytes`. */
  get transcript(): readonly TranscriptEntry[] {
    return this.#transcript ?? [];
  }
  get omittedBytes(): number {
    return this.#omittedBytes;
  }
  /** Deviations seen outside any request (an unsolicited management reply, …). */
  get anomalies(): readonly string[] {
    return this.#anomalies;
  }
  /** Milliseconds since `clockOrigin`. */
  now(): number {
    return Math.round((performance.now() - this.#t0) * 1000) / 1000;
  }

  /** Sends a request and buffers its response. Rejects with a `ClientError` (E_REJECTED for a non-complete protocolStatus). */
  request(options: RequestOptions = {}): Promise<RequestResult> {
    const { promise, sink } = bufferedSink(options.maxResponseBytes ?? this.#maxResponseBytes, this.#maxCgiHeaderBytes);
    this[kStart](options, sink);
    return promise;
  }

  /** Sends a request and streams its response as it arrives. */
  stream(options: RequestOptions = {}): ResponseStream {
    const own = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, own.signal]) : own.signal;
    const { handle, sink } = streamSink((reason) => own.abort(reason));
    this[kStart](options, sink, options.keepConn, signal);
    return handle;
  }

  /**
   * Asks FCGI_GET_VALUES for `names` and returns the application's answers (names it does not know are left out).
   * An FCGI_UNKNOWN_TYPE answer rejects with E_UNKNOWN_TYPE. @see §4.1
   */
  async getValues(names: Iterable<string>, options: { readonly timeoutMs?: number } = {}): Promise<Map<string, string>> {
    const content = encodeParams([...names].map((n) => [n, ''] as const));
    const reply = await this.sendManagement(FCGI_GET_VALUES, content, options);
    if (reply.kind === 'unknown-type') {
      throw new ClientError('E_UNKNOWN_TYPE', `the application answered FCGI_GET_VALUES with FCGI_UNKNOWN_TYPE (type ${reply.type})`, {
        unknownType: reply.type,
      });
    }
    return new Map(reply.values);
  }

  /**
   * Sends a management record (request id 0) and waits for the answer: FCGI_GET_VALUES_RESULT or
   * FCGI_UNKNOWN_TYPE. Answers are matched to queries in order, as the protocol has no other way. @see §4
   */
  sendManagement(type: number, content: Uint8Array = new Uint8Array(0), options: { readonly timeoutMs?: number } = {}): Promise<ManagementReply> {
    if (content.length > FCGI_MAX_CONTENT_LENGTH) {
      return Promise.reject(new ClientError('E_USAGE', `management record content of ${content.length} bytes does not fit one record`));
    }
    if (this.#closeInfo) return Promise.reject(this.#closedError());
    return new Promise((resolve, reject) => {
      const waiter: ManagementWaiter = { type, resolve, reject, timer: undefined, expired: false };
      const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
      if (timeoutMs > 0) {
        waiter.timer = setTimeout(() => {
          waiter.expired = true;
          reject(new ClientError('E_TIMEOUT', `no answer to ${recordTypeName(type)} within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.#management.push(waiter);
      this.#write(new RecordBatch(this.#pad).record(type, FCGI_NULL_REQUEST_ID, content).parts());
    });
  }

  /** Stops taking requests (queued ones fail with E_CLOSED), lets those in flight finish, then closes. Resolves once closed. */
  close(): Promise<void> {
    this.#closing = true;
    this.#failQueue('the connection is closing');
    this.#closeIfDone();
    return this.#closedPromise;
  }

  /** Closes at once; requests in flight fail with E_CLOSED. */
  destroy(reason = 'the client destroyed the connection'): void {
    this.#onClose('local', reason);
    this.#socket.destroy();
  }

  /** @internal `keepConn` and `signal` override the options' own (the pool's default, a stream's combined signal). */
  [kStart](options: RequestOptions, sink: Sink, keepConn = options.keepConn, signal = options.signal, attempt = 0): void {
    if (signal?.aborted) return sink.settle(undefined, { code: 'E_ABORTED', message: 'the request was aborted before it started', cause: signal.reason });
    if (this.#closeInfo) return sink.settle(undefined, failure(this.#closedError()));
    if (!this.acceptsRequests) return sink.settle(undefined, { code: 'E_CLOSED', message: this.#notAcceptingReason() });
    if (this.activeRequests >= this.#maxConcurrent || this.#queue.length > 0) {
      const queued: Queued = { options, sink, keepConn, signal, attempt, removeSignal: undefined };
      if (signal) {
        const onAbort = (): void => {
          const i = this.#queue.indexOf(queued);
          if (i >= 0) this.#queue.splice(i, 1);
          sink.settle(undefined, { code: 'E_ABORTED', message: 'the request was aborted while waiting for a free slot', cause: signal.reason });
        };
        signal.addEventListener('abort', onAbort, { once: true });
        queued.removeSignal = () => signal.removeEventListener('abort', onAbort);
      }
      this.#queue.push(queued);
      return;
    }
    this.#start(options, sink, keepConn ?? true, signal, attempt);
  }

  // ---- sending -----------------------------------------------------------------------------------------------

  #start(options: RequestOptions, sink: Sink, keepConn: boolean, signal: AbortSignal | undefined, attempt: number): void {
    let role: number;
    if (typeof options.role === 'number') role = options.role;
    else {
      const known = roleNumbers[options.role ?? 'responder'] as number | undefined;
      if (known === undefined) return sink.settle(undefined, { code: 'E_USAGE', message: `unknown role "${String(options.role)}"` });
      role = known;
    }
    let params: Uint8Array;
    try {
      params = encodeParams(options.params);
    } catch (err) {
      return sink.settle(undefined, { code: 'E_USAGE', message: `params cannot be encoded: ${String(err)}`, cause: err });
    }
    const id = this.#freeId();
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const shape = options.records;
    const p: InFlight = {
      id,
      options,
      keepConn,
      signal,
      sink,
      attempt,
      reused: this.#completed > 0,
      received: false,
      timeoutMs,
      pad: shape?.padding === undefined ? this.#pad : padder(shape.padding),
      maxContent: shape?.maxContent ?? this.#maxContent,
      timer: undefined,
      abortTimer: undefined,
      removeSignal: undefined,
      settled: false,
      abortSent: false,
      abortReason: undefined,
      stdoutEnded: false,
      stderrEnded: false,
      stdoutBytes: 0,
      stderrBytes: 0,
      anomalies: undefined,
      anomalyCount: 0,
    };
    this.#requests.set(id, p);
    if (!keepConn) {
      this.#closing = true;
      this.#failQueue(`the connection closes after request ${id}, sent without FCGI_KEEP_CONN`);
    }
    if (timeoutMs > 0) p.timer = setTimeout(() => this.#onTimeout(p), timeoutMs);
    if (signal) {
      const onAbort = (): void => this.#callerAbort(p, signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      p.removeSignal = () => signal.removeEventListener('abort', onAbort);
    }
    sink.started(id, () => this.#resumeFor(p));

    // BEGIN_REQUEST, the params stream, and every body given as bytes go out as one corked write.
    const batch = new RecordBatch(p.pad, p.maxContent)
      .record(FCGI_BEGIN_REQUEST, id, beginBody(role, keepConn))
      .stream(FCGI_PARAMS, id, params, true);
    const stdin = options.stdin === undefined ? EMPTY : bytesOf(options.stdin);
    const data = bytesOf(options.data);
    const sendData = options.data !== undefined || role === FCGI_FILTER;
    if (stdin) {
      batch.stream(FCGI_STDIN, id, stdin, true);
      if (data || !sendData) {
        if (data) batch.stream(FCGI_DATA, id, data, true);
        this.#write(batch.parts());
        return;
      }
    }
    const needDrain = !this.#write(batch.parts());
    void this.#pump(p, stdin ? undefined : options.stdin, sendData ? options.data ?? EMPTY : undefined, needDrain);
  }

  // Sends the bodies that are not plain bytes, as the connection accepts them.
  async #pump(p: InFlight, stdin: BodyInit | undefined, data: BodyInit | undefined, needDrain: boolean): Promise<void> {
    let source = 'stdin';
    try {
      if (needDrain) await this.#drained();
      if (stdin !== undefined && !(await this.#pumpStream(p, FCGI_STDIN, stdin))) return;
      source = 'data';
      if (data !== undefined) await this.#pumpStream(p, FCGI_DATA, data);
    } catch (err) {
      if (p.settled) return;
      const why = err instanceof Error ? err.message : String(err);
      this.#failRequest(p, { code: 'E_INPUT', message: `request ${p.id}: reading its ${source} failed: ${why}`, details: { requestId: p.id }, cause: err });
    }
  }

  // Returns false when the request no longer wants input.
  async #pumpStream(p: InFlight, type: number, body: BodyInit): Promise<boolean> {
    const name = type === FCGI_STDIN ? 'stdin' : 'data';
    const whole = bytesOf(body);
    if (whole) {
      if (this.#inputStopped(p)) return false;
      if (!this.#write(new RecordBatch(p.pad, p.maxContent).stream(type, p.id, whole, true).parts())) await this.#drained();
      return !this.#inputStopped(p);
    }
    let iterable: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;
    if (typeof body === 'object' && body !== null && (Symbol.asyncIterator in body || Symbol.iterator in body)) {
      iterable = body as AsyncIterable<Uint8Array | string>;
    } else {
      throw new TypeError(`the ${name} source is not bytes, a string, or an (async) iterable of chunks`);
    }
    for await (const chunk of iterable) {
      if (this.#inputStopped(p)) return false;
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (!(bytes instanceof Uint8Array)) throw new TypeError(`the ${name} source yielded ${typeof chunk}, not bytes`);
      if (bytes.length === 0) continue; // an empty record would end the stream
      if (!this.#write(new RecordBatch(p.pad, p.maxContent).stream(type, p.id, bytes, false).parts())) await this.#drained();
      p.timer?.refresh();
    }
    if (this.#inputStopped(p)) return false;
    if (!this.#write(new RecordBatch(p.pad).record(type, p.id, EMPTY).parts())) await this.#drained();
    return true;
  }

  #inputStopped(p: InFlight): boolean {
    return p.settled || p.abortSent || this.#closeInfo !== undefined || this.#requests.get(p.id) !== p;
  }

  // Writes parts as one corked write; returns false when the caller should wait for 'drain'.
  #write(parts: readonly Uint8Array[]): boolean {
    const s = this.#socket;
    if (this.#closeInfo || s.destroyed || s.writableEnded) return true;
    if (this.#transcript || this.#onTraffic) {
      const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      const atMs = this.now();
      this.#keep('sent', atMs, bytes);
      this.#emit({ dir: 'sent', conn: this.#index, atMs, bytes });
    }
    // Everything written in one tick (a batch, or many requests started together) leaves in one writev.
    if (!this.#corked) {
      this.#corked = true;
      s.cork();
      process.nextTick(this.#uncork);
    }
    let ok = true;
    for (const part of parts) ok = s.write(part);
    return ok;
  }

  readonly #uncork = (): void => {
    this.#corked = false;
    this.#socket.uncork();
  };

  // One promise per connection for the next 'drain' (or the close), however many writers wait.
  #drained(): Promise<void> {
    if (this.#closeInfo) return Promise.resolve();
    if (!this.#drain) {
      this.#drain = new Promise((resolve) => {
        this.#drainResolve = resolve;
        this.#socket.once('drain', () => this.#releaseDrain());
      });
    }
    return this.#drain;
  }

  #releaseDrain(): void {
    const resolve = this.#drainResolve;
    this.#drain = undefined;
    this.#drainResolve = undefined;
    resolve?.();
  }

  #sendAbort(p: InFlight): void {
    if (p.abortSent || this.#closeInfo || this.#requests.get(p.id) !== p) return;
    p.abortSent = true;
    // Armed before the write: over an in-memory transport the answer can arrive within the write call.
    p.abortTimer = setTimeout(() => {
      const why = `request ${p.id} got no FCGI_END_REQUEST within ${this.#abortTimeoutMs} ms after FCGI_ABORT_REQUEST`;
      this.#settle(p, undefined, { code: 'E_TIMEOUT', message: why, details: { requestId: p.id } });
      this.#retire(why);
    }, this.#abortTimeoutMs);
    this.#write(new RecordBatch(p.pad).record(FCGI_ABORT_REQUEST, p.id, EMPTY).parts());
  }

  // ---- receiving ---------------------------------------------------------------------------------------------

  #onData(chunk: Buffer): void {
    if (this.#closeInfo) return;
    this.#lastChunk = chunk;
    const atMs = this.#transcript || this.#onTraffic ? this.now() : 0;
    if (this.#transcript) this.#keep('received', atMs, chunk);
    const records = this.#decoder.push(chunk);
    for (let i = 0; i < records.length; i++) {
      if (this.#closeInfo) return;
      const r = records[i]!;
      if (this.#onTraffic) this.#emit({ dir: 'received', conn: this.#index, atMs, record: r });
      this.#dispatch(r);
    }
    // A record still arriving: judge its version now, not after up to 64 KiB its header may promise.
    const pending = this.#decoder.pendingBytes;
    if (pending > 0 && pending <= chunk.length && !this.#closeInfo) {
      const version = chunk[chunk.length - pending]!;
      if (version !== FCGI_VERSION_1) {
        this.#fatal(`a record header with version ${version}; only version ${FCGI_VERSION_1} exists`, hexOf(chunk.subarray(chunk.length - pending)));
      }
    }
  }

  #dispatch(r: DecodedRecord): void {
    if (r.version !== FCGI_VERSION_1) {
      return this.#fatal(`a record with version ${r.version} (${recordTypeName(r.type)}, id ${r.requestId}); only version ${FCGI_VERSION_1} exists`, hexOf(recordBytes(r)));
    }
    if (r.requestId === FCGI_NULL_REQUEST_ID) return this.#onManagement(r);
    const p = this.#requests.get(r.requestId);
    if (!p) return this.#fatal(`${recordTypeName(r.type)} for request id ${r.requestId}, which is not in flight`, hexOf(recordBytes(r)));
    p.received = true;
    switch (r.type) {
      case FCGI_STDOUT:
      case FCGI_STDERR:
        return this.#onOutput(p, r);
      case FCGI_END_REQUEST:
        return this.#onEndRequest(p, r);
      default:
        if (p.settled) return;
        this.#failRequest(p, protocolFailure(`the application sent ${recordTypeName(r.type)} for request ${p.id}, a type only a web server sends or none defines`, r, p.id));
    }
  }

  #onOutput(p: InFlight, r: DecodedRecord): void {
    if (p.settled) return;
    p.timer?.refresh();
    const stdout = r.type === FCGI_STDOUT;
    const length = r.content.length;
    const name = stdout ? 'FCGI_STDOUT' : 'FCGI_STDERR';
    if (length === 0) {
      if (stdout ? p.stdoutEnded : p.stderrEnded) this.#note(p, `a second empty ${name} record`);
      if (stdout) p.stdoutEnded = true;
      else p.stderrEnded = true;
      return;
    }
    if (stdout ? p.stdoutEnded : p.stderrEnded) this.#note(p, `${name} data after the empty record that ended the stream`);
    if (stdout) p.stdoutBytes += length;
    else p.stderrBytes += length;
    if (p.stdoutBytes + p.stderrBytes > p.sink.maxBytes) {
      return this.#failRequest(p, {
        code: 'E_TOO_LARGE',
        message: `request ${p.id}: the response passed maxResponseBytes (${p.sink.maxBytes} bytes)`,
        details: { requestId: p.id },
      });
    }
    const more = stdout ? p.sink.stdout(r.content) : p.sink.stderr(r.content);
    if (!more && !this.#paused.has(p)) {
      this.#paused.add(p);
      this.#socket.pause();
    }
  }

  #onEndRequest(p: InFlight, r: DecodedRecord): void {
    this.#requests.delete(p.id);
    this.#completed++;
    clearTimeout(p.abortTimer);
    if (!p.settled) {
      const body = decodeEndRequestBody(r.content);
      if (body.length !== FCGI_FIXED_BODY_LEN) {
        this.#settle(p, undefined, protocolFailure(`FCGI_END_REQUEST for request ${p.id} has a ${body.length}-byte body, not ${FCGI_FIXED_BODY_LEN}`, r, p.id));
      } else {
        if (!p.stdoutEnded) this.#note(p, 'FCGI_END_REQUEST before the empty FCGI_STDOUT record');
        if (p.stderrBytes > 0 && !p.stderrEnded) this.#note(p, 'FCGI_END_REQUEST before the empty FCGI_STDERR record');
        const end: RequestEnd = {
          requestId: p.id,
          appStatus: body.appStatus,
          protocolStatus: body.protocolStatus,
          stdoutBytes: p.stdoutBytes,
          stderrBytes: p.stderrBytes,
          anomalies: p.anomalies ?? [],
        };
        if (p.abortReason) {
          this.#settle(p, end, { code: 'E_ABORTED', message: `request ${p.id} was aborted; the application ended it with ${protocolStatusName(body.protocolStatus)}, appStatus ${body.appStatus}`, details: { requestId: p.id }, cause: p.abortReason.reason });
        } else if (body.protocolStatus !== FCGI_REQUEST_COMPLETE) {
          if (body.protocolStatus === FCGI_CANT_MPX_CONN) {
            this.#maxConcurrent = 1;
            this.#hooks.cantMultiplex?.(this);
          }
          this.#settle(p, end, { code: 'E_REJECTED', message: `the application rejected request ${p.id}: ${protocolStatusName(body.protocolStatus)} (appStatus ${body.appStatus})`, details: { requestId: p.id } });
        } else {
          this.#settle(p, end, undefined);
        }
      }
    }
    this.#freed();
  }

  #onManagement(r: DecodedRecord): void {
    if (r.type !== FCGI_GET_VALUES_RESULT && r.type !== FCGI_UNKNOWN_TYPE) {
      return this.#fatal(`the application sent ${recordTypeName(r.type)} with the null request id`, hexOf(recordBytes(r)));
    }
    const waiter = this.#management.shift();
    if (!waiter) {
      this.#anomaly(`an unsolicited ${recordTypeName(r.type)}`);
      return;
    }
    clearTimeout(waiter.timer);
    if (waiter.expired) return;
    if (r.type === FCGI_UNKNOWN_TYPE) {
      const body = decodeUnknownTypeBody(r.content);
      if (body.length !== FCGI_FIXED_BODY_LEN) this.#anomaly(`FCGI_UNKNOWN_TYPE with a ${body.length}-byte body, not ${FCGI_FIXED_BODY_LEN}`);
      return waiter.resolve({ kind: 'unknown-type', type: body.type, record: r });
    }
    const { pairs, error } = decodeNameValuePairs(r.content, { maxPairs: 4096, maxPairLength: FCGI_MAX_CONTENT_LENGTH });
    if (error) {
      return waiter.reject(new ClientError('E_PROTOCOL', `FCGI_GET_VALUES_RESULT is not a sequence of name-value pairs (${error.kind} at byte ${error.offset})`, { hex: hexOf(recordBytes(r)) }));
    }
    const values = new Map<string, string>();
    for (const pair of pairs) values.set(toText(pair.name), toText(pair.value));
    waiter.resolve({ kind: 'values', values, record: r });
  }

  // ---- request outcomes --------------------------------------------------------------------------------------

  #onTimeout(p: InFlight): void {
    if (p.settled) return;
    // We stopped reading for a slow stream consumer: the silence is ours, not the application's.
    if (this.#paused.size > 0) {
      p.timer?.refresh();
      return;
    }
    this.#failRequest(p, { code: 'E_TIMEOUT', message: `request ${p.id}: nothing from the application for ${p.timeoutMs} ms`, details: { requestId: p.id } });
  }

  #callerAbort(p: InFlight, reason: unknown): void {
    if (p.settled || p.abortReason) return;
    p.abortReason = { reason };
    this.#sendAbort(p);
  }

  // Settles the request for the caller and aborts it on the wire; its id stays taken until FCGI_END_REQUEST.
  #failRequest(p: InFlight, f: Failure): void {
    this.#settle(p, undefined, f);
    this.#sendAbort(p);
  }

  #settle(p: InFlight, end: RequestEnd | undefined, f: Failure | undefined): void {
    if (p.settled) return;
    p.settled = true;
    clearTimeout(p.timer);
    p.removeSignal?.();
    this.#resumeFor(p);
    try {
      p.sink.settle(end, f);
    } finally {
      this.#hooks.slotFreed?.(this);
      if (this.#retiring !== undefined) this.#closeIfDone();
    }
  }

  // The application freed an id: start what waits, or close when that was the plan.
  #freed(): void {
    if (this.#closing || this.#retiring !== undefined) this.#closeIfDone();
    else this.#startQueued();
    this.#hooks.slotFreed?.(this);
  }

  #startQueued(): void {
    while (this.#queue.length > 0 && this.acceptsRequests && this.activeRequests < this.#maxConcurrent) {
      const q = this.#queue.shift()!;
      q.removeSignal?.();
      this.#start(q.options, q.sink, q.keepConn ?? true, q.signal, q.attempt);
    }
  }

  #resumeFor(p: InFlight): void {
    if (this.#paused.delete(p) && this.#paused.size === 0 && !this.#closeInfo) this.#socket.resume();
  }

  #freeId(): number {
    // §3.3: "The Web server attempts to keep FastCGI request IDs small."
    let id = 1;
    while (this.#requests.has(id)) id++;
    return id;
  }

  #note(p: InFlight, text: string): void {
    p.anomalyCount++;
    p.anomalies ??= [];
    if (p.anomalies.includes(text)) return;
    if (p.anomalies.length < MAX_ANOMALIES) p.anomalies.push(text);
  }

  #anomaly(text: string): void {
    if (this.#anomalies.length < MAX_ANOMALIES && !this.#anomalies.includes(text)) this.#anomalies.push(text);
  }

  // ---- closing -----------------------------------------------------------------------------------------------

  #retire(reason: string): void {
    if (this.#retiring !== undefined) return;
    this.#retiring = reason;
    this.#failQueue(`the connection was retired: ${reason}`);
    this.#closeIfDone();
  }

  // Closes once no request waits for an answer: gracefully when nothing is owed, at once when retiring.
  #closeIfDone(): void {
    if (this.#closeInfo) return;
    if (this.#retiring !== undefined) {
      for (const p of this.#requests.values()) if (!p.settled) return;
      return this.destroy(this.#retiring);
    }
    if (this.#closing && this.#requests.size === 0 && this.#queue.length === 0 && !this.#socket.writableEnded) {
      // §3.5: without FCGI_KEEP_CONN the application closes; we end our side too, and do not wait forever.
      this.#socket.end();
      setTimeout(() => this.destroy('the application did not close the connection'), this.#abortTimeoutMs).unref();
    }
  }

  #failQueue(message: string): void {
    for (const q of this.#queue.splice(0)) {
      q.removeSignal?.();
      q.sink.settle(undefined, { code: 'E_CLOSED', message });
    }
  }

  // The byte stream can no longer be trusted: every request on it fails with E_PROTOCOL, then it closes.
  #fatal(message: string, hex: string): void {
    this.#retiring ??= `protocol error: ${message}`;
    for (const w of this.#management.splice(0)) {
      clearTimeout(w.timer);
      if (!w.expired) w.reject(new ClientError('E_PROTOCOL', message, { hex }));
    }
    for (const p of [...this.#requests.values()]) this.#settle(p, undefined, { code: 'E_PROTOCOL', message, details: { requestId: p.id, hex } });
    this.destroy(`protocol error: ${message}`);
  }

  #onClose(how: CloseKind, detail: string): void {
    if (this.#closeInfo) return;
    const pending = this.#decoder.pendingBytes;
    const cut = pending > 0 ? `; ${pending} bytes of an unfinished record` : '';
    this.#closeInfo = { how, detail: detail + cut };
    const atMs = this.now();
    this.#transcript?.push({ dir: 'closed', atMs, how, detail: this.#closeInfo.detail });
    this.#emit({ dir: 'closed', conn: this.#index, atMs, how, detail: this.#closeInfo.detail });
    const hex = pending > 0 && this.#lastChunk ? hexOf(this.#lastChunk.subarray(Math.max(0, this.#lastChunk.length - pending))) : undefined;
    const requests = [...this.#requests.values()];
    this.#requests.clear();
    for (const p of requests) {
      clearTimeout(p.abortTimer);
      if (this.#mayRetry(p) && this.#hooks.retry?.(p.options, p.sink, p.keepConn, p.signal, p.attempt + 1)) {
        p.settled = true;
        clearTimeout(p.timer);
        p.removeSignal?.();
        continue;
      }
      const details: ClientErrorDetails = hex === undefined ? { requestId: p.id } : { requestId: p.id, hex };
      this.#settle(p, undefined, { code: 'E_CLOSED', message: `the connection closed before FCGI_END_REQUEST for request ${p.id} (${how}: ${this.#closeInfo.detail})`, details });
    }
    for (const w of this.#management.splice(0)) {
      clearTimeout(w.timer);
      if (!w.expired) w.reject(this.#closedError());
    }
    this.#failQueue(`the connection closed (${how}: ${this.#closeInfo.detail})`);
    this.#paused.clear();
    this.#releaseDrain();
    if (!this.#socket.destroyed) this.#socket.destroy();
    this.#closedResolve();
    this.#hooks.closed?.(this);
  }

  /**
   * Whether a request the close cut off may be sent again on another connection: the stale kept-connection
   * race (the application closed a connection we had just reused). Only when nothing came back for it, it was
   * not aborted, its bodies can be replayed, and its REQUEST_METHOD (if any) is idempotent (RFC 9110 §9.2.2),
   * as nginx's `fastcgi_next_upstream` does; and only once.
   */
  #mayRetry(p: InFlight): boolean {
    if (p.settled || p.received || p.abortSent || p.attempt > 0 || !p.reused) return false;
    const { stdin, data, params } = p.options;
    const replayable = (b: BodyInit | undefined): boolean => b === undefined || typeof b === 'string' || b instanceof Uint8Array;
    if (!replayable(stdin) || !replayable(data)) return false;
    let method: string | Uint8Array | undefined;
    if (params === undefined) method = undefined;
    else if (Array.isArray(params)) method = (params as readonly (readonly [string | Uint8Array, string | Uint8Array])[]).find(([n]) => n === 'REQUEST_METHOD')?.[1];
    else if (Symbol.iterator in params) return false; // may be a one-shot iterator, already consumed
    else method = (params as Readonly<Record<string, string>>)['REQUEST_METHOD'];
    if (method === undefined) return true;
    return IDEMPOTENT_METHODS.has(typeof method === 'string' ? method : Buffer.from(method).toString('latin1'));
  }

  #closedError(): ClientError {
    const info = this.#closeInfo;
    return new ClientError('E_CLOSED', info ? `the connection is closed (${info.how}: ${info.detail})` : 'the connection is closed');
  }

  #notAcceptingReason(): string {
    if (this.#retiring !== undefined) return `the connection was retired: ${this.#retiring}`;
    return 'the connection is closing (a request without FCGI_KEEP_CONN is in flight, or close() was called)';
  }

  // ---- observation -------------------------------------------------------------------------------------------

  #keep(dir: 'sent' | 'received', atMs: number, bytes: Uint8Array): void {
    if (!this.#transcript) return;
    const take = Math.min(bytes.length, this.#transcriptRoom);
    this.#omittedBytes += bytes.length - take;
    if (take === 0) return;
    this.#transcriptRoom -= take;
    this.#transcript.push({ dir, atMs, bytes: Uint8Array.prototype.slice.call(bytes, 0, take) });
  }

  #emit(event: TrafficEvent): void {
    if (!this.#onTraffic) return;
    try {
      this.#onTraffic(event);
    } catch {
      // An observer's bug must not break the connection.
    }
  }
}

function failure(err: ClientError): Failure {
  return { code: err.code, message: err.message };
}

function protocolFailure(message: string, r: DecodedRecord, requestId: number, hex = hexOf(recordBytes(r))): Failure {
  return { code: 'E_PROTOCOL', message, details: { requestId, hex } };
}

// The record's bytes as they came, for error reports (rebuilt from the decoded views).
function recordBytes(r: DecodedRecord): Uint8Array {
  const out = new Uint8Array(FCGI_HEADER_LEN + r.content.length + r.padding.length);
  writeHeader(out, 0, { version: r.version, type: r.type, requestId: r.requestId, contentLength: r.content.length, paddingLength: r.paddingLength, reserved: r.reserved });
  out.set(r.content, FCGI_HEADER_LEN);
  out.set(r.padding, FCGI_HEADER_LEN + r.content.length);
  return out;
}

// BEGIN_REQUEST bodies by role and keep-conn, made once: they are read-only once written.
const beginBodies = new Map<number, Uint8Array>();
function beginBody(role: number, keepConn: boolean): Uint8Array {
  const key = role * 2 + (keepConn ? 1 : 0);
  let body = beginBodies.get(key);
  if (!body) {
    body = encodeBeginRequestBody({ role, flags: keepConn ? FCGI_KEEP_CONN : 0 });
    if (beginBodies.size < 64) beginBodies.set(key, body);
  }
  return body;
}

function bytesOf(body: BodyInit | undefined): Uint8Array | undefined {
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof Uint8Array) return body;
  return undefined;
}

/** Role names accepted by `RequestOptions.role`. */
export const roles: readonly RoleName[] = Object.keys(roleNumbers) as RoleName[];
