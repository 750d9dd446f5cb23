/**
 * One request on a connection, from FCGI_BEGIN_REQUEST to FCGI_END_REQUEST: its input streams, the
 * handler's view of it, and the output it sends. One object serves the handler as both request and response,
 * which saves an allocation per request.
 * @see §5 (records), §6 (roles)
 */
import { Readable, Writable } from 'node:stream';
import {
  FCGI_END_REQUEST,
  FCGI_KEEP_CONN,
  FCGI_REQUEST_COMPLETE,
  FCGI_STDERR,
  FCGI_STDOUT,
  roleNames,
  type RoleName,
} from '../../spec/constants.ts';
import type { NameValueError } from '../codec/name-value.ts';
import { encodeEndRequestBody } from '../codec/bodies.ts';
import type { ActiveFaults } from './faults.ts';
import { encodeEndRecords, encodeFaulty, MAX_RECORD_CONTENT, type OutRecord, type RecordWriter } from './output.ts';
import { ParamsParser, ParamTable, type BufferPair } from './params.ts';
import type { FcgiRequest, FcgiResponse, Handler, RequestLogEntry, ResponderLimits } from './types.ts';

/** What an exchange needs from its connection and responder. */
export interface ExchangeHost {
  readonly writer: RecordWriter;
  readonly connectionId: number;
  readonly handler: Handler;
  readonly limits: ResponderLimits;
  readonly abortAppStatus: number;
  readonly onRequestEnd: ((entry: RequestLogEntry) => void) | undefined;
  /** The exchange has more unread input than its bound: stop reading the connection. */
  stall(exchange: Exchange): void;
  unstall(exchange: Exchange): void;
  /** FCGI_END_REQUEST was sent (or the request died with the connection): the id is inactive. */
  finished(exchange: Exchange): void;
  /** Output queued for timed delivery (slow-output, tiny-writes) started or drained. */
  queueStarted(): void;
  queueDrained(): void;
  /** Ends the connection (a fault asked for it). */
  kill(how: 'end' | 'reset', reason: string): void;
}

const EMPTY = Buffer.alloc(0);
const RESOLVED: Promise<void> = Promise.resolve();
const encoder = new TextEncoder();
const STDOUT_END: OutRecord = { type: FCGI_STDOUT, content: EMPTY };
const STDERR_END: OutRecord = { type: FCGI_STDERR, content: EMPTY };

function toChunk(chunk: Uint8Array | string): Uint8Array {
  return typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
}

function abortError(reason: string): Error {
  const err = new Error(`request aborted: ${reason}`);
  err.name = 'AbortError';
  return err;
}

interface BufferWaiter {
  readonly max: number;
  readonly resolve: (all: Buffer | undefined) => void;
}

/**
 * A FCGI_STDIN or FCGI_DATA stream: chunks are held until the handler takes them, as a Readable (created on
 * first use) or all at once (`collect`). Bounded either way: past the high-water mark `push` says so and
 * the connection stops reading.
 */
class InputChannel {
  readonly #owner: Exchange;
  #chunks: Buffer[] | undefined;
  #buffered = 0;
  #ended = false;
  #aborted = false;
  #stream: Readable | undefined;
  #waiter: BufferWaiter | undefined;

  constructor(owner: Exchange) {
    this.#owner = owner;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Adds input; false when the unread input reached the high-water mark. */
  push(chunk: Buffer): boolean {
    if (this.#stream) return this.#stream.push(chunk);
    (this.#chunks ??= []).push(chunk);
    this.#buffered += chunk.length;
    const w = this.#waiter;
    if (w && this.#buffered > w.max) {
      this.#waiter = undefined;
      w.resolve(undefined);
    }
    // A handler collecting the stream agreed to hold up to its maximum, and with exactly that much held it needs
    // one byte more (or the end) to decide: reading stops only past it, or the two wait for each other.
    const collecting = this.#waiter;
    return this.#buffered < this.#owner.host.limits.inputHighWaterMark || (collecting !== undefined && this.#buffered <= collecting.max);
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#stream?.push(null);
    const w = this.#waiter;
    if (w) {
      this.#waiter = undefined;
      w.resolve(this.#take());
    }
  }

  /** All of the stream once it ends, if it stays within `max` bytes; undefined otherwise (nothing consumed). */
  collect(max: number): Promise<Buffer | undefined> {
    if (this.#stream || this.#waiter || this.#aborted || this.#buffered > max) return Promise.resolve(undefined);
    if (this.#ended) return Promise.resolve(this.#take());
    return new Promise((resolve) => {
      this.#waiter = { max, resolve };
      this.#owner.host.unstall(this.#owner);
    });
  }

  #take(): Buffer {
    const chunks = this.#chunks;
    this.#chunks = undefined;
    this.#buffered = 0;
    if (!chunks) return EMPTY;
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  }

  /**
   * The request is over: a stream still open ends (normal end) or is destroyed (abort). Destroyed without
   * an error object, so a handler that never listened for 'error' cannot crash the process.
   */
  close(aborted: boolean): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.resolve(undefined);
    if (this.#ended) return;
    this.#ended = true;
    this.#aborted = aborted;
    if (!this.#stream) return;
    if (aborted) this.#stream.destroy();
    else this.#stream.push(null);
  }

  get stream(): Readable {
    if (!this.#stream) {
      const owner = this.#owner;
      const stream = new Readable({
        highWaterMark: owner.host.limits.inputHighWaterMark,
        read: () => owner.host.unstall(owner),
      });
      for (const c of this.#chunks ?? []) stream.push(c);
      this.#chunks = undefined;
      this.#buffered = 0;
      if (this.#aborted) stream.destroy();
      else if (this.#ended) stream.push(null);
      this.#stream = stream;
    }
    return this.#stream;
  }
}

// tiny-records: how much of the start of each output stream is cut into tiny records.
const TINY_RECORDS_SPAN = 4096;
// tiny-writes: bytes of each record written one per write (the header and this many after it); the rest in one.
const TINY_PREFIX = 24;

/**
 * Delivers a request's encoded records one by one with the timing faults (slow-output, tiny-writes,
 * close-mid-record). A record written in pieces holds the connection's writer, so no other output lands
 * inside it.
 */
class TimedOutput {
  readonly #host: ExchangeHost;
  readonly #delayMs: number;
  readonly #tiny: boolean;
  #cutFirst: boolean;
  #items: Uint8Array[] = [];
  #running = false;

  constructor(host: ExchangeHost, fx: ActiveFaults) {
    this.#host = host;
    this.#delayMs = fx.arg('slow-output') ?? 0;
    this.#tiny = fx.has('tiny-writes');
    this.#cutFirst = fx.has('close-mid-record');
  }

  push(bytes: Uint8Array): void {
    this.#items.push(bytes);
    if (this.#running) return;
    this.#running = true;
    this.#host.queueStarted();
    void this.#run();
  }

  async #run(): Promise<void> {
    const writer = this.#host.writer;
    try {
      for (let bytes = this.#items.shift(); bytes; bytes = this.#items.shift()) {
        if (this.#delayMs > 0) await sleep(this.#delayMs);
        if (!writer.usable) break;
        if (this.#cutFirst) {
          this.#cutFirst = false;
          await writer.acquire();
          writer.rawLocked(bytes.subarray(0, Math.floor(bytes.length / 2)));
          this.#host.kill('end', 'fault close-mid-record');
          writer.release();
          break;
        }
        if (!this.#tiny) {
          writer.raw(bytes);
          continue;
        }
        await writer.acquire();
        try {
          const pieces = Math.min(TINY_PREFIX, bytes.length);
          for (let i = 0; i < pieces && writer.usable; i++) {
            writer.rawLocked(bytes.subarray(i, i + 1));
            await new Promise<void>((r) => setImmediate(r));
          }
          if (bytes.length > pieces) writer.rawLocked(bytes.subarray(pieces));
        } finally {
          writer.release();
        }
      }
    } finally {
      this.#items = [];
      this.#running = false;
      this.#host.queueDrained();
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function faultLine(name: string): Uint8Array {
  return encoder.encode(`fcgispec fault: ${name}\n`);
}

/** One active request. @see §3.3 (request ids), §5.1–§5.5, §6 */
export class Exchange implements FcgiRequest, FcgiResponse {
  readonly host: ExchangeHost;
  readonly requestId: number;
  readonly role: RoleName;
  readonly flags: number;
  readonly faults: ActiveFaults;
  abortAppStatus: number;

  readonly #parser: ParamsParser;
  readonly #table = new ParamTable();
  #params: Map<string, string> | undefined;
  #paramsDone = false;
  readonly #stdin: InputChannel;
  #data: InputChannel | undefined;
  #controller: AbortController | undefined;
  #abortReason: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #startedAt: number;

  #endCalled = false;
  #endStatus = 0;
  #finished = false;
  #stdoutBytes = 0;
  #stderrBytes = 0;
  #firstStdout: Uint8Array | undefined;
  #stdoutW: Writable | undefined;
  #stderrW: Writable | undefined;
  #held: OutRecord[] | undefined;
  #timed: TimedOutput | undefined;

  constructor(host: ExchangeHost, requestId: number, role: RoleName, flags: number, faults: ActiveFaults) {
    this.host = host;
    this.requestId = requestId;
    this.role = role;
    this.flags = flags;
    this.faults = faults;
    this.abortAppStatus = host.abortAppStatus;
    const limits = host.limits;
    this.#parser = new ParamsParser({ maxPairLength: limits.maxParamLength, maxPairs: limits.maxParams, maxTotalBytes: limits.maxParamsBytes }, this.#table);
    this.#stdin = new InputChannel(this);
    if (role === 'filter') this.#data = new InputChannel(this);
    this.#startedAt = host.onRequestEnd ? performance.now() : 0;
    if (faults.any) {
      if (faults.has('end-before-stdout')) this.#held = [];
      if (faults.has('slow-output') || faults.has('tiny-writes') || faults.has('close-mid-record')) this.#timed = new TimedOutput(host, faults);
    }
  }

  // ---- FcgiRequest ----

  get connectionId(): number {
    return this.host.connectionId;
  }
  get keepConn(): boolean {
    return (this.flags & FCGI_KEEP_CONN) !== 0;
  }
  get params(): ReadonlyMap<string, string> {
    return (this.#params ??= this.#table.toMap());
  }
  get paramPairs(): readonly BufferPair[] {
    return this.#table.pairs();
  }
  paramBytes(name: Uint8Array | string): Buffer | undefined {
    return this.#table.find(typeof name === 'string' ? Buffer.from(name, 'utf8') : name);
  }
  get stdin(): Readable {
    return this.#stdin.stream;
  }
  get data(): Readable {
    if (!this.#data) {
      this.#data = new InputChannel(this);
      this.#data.end();
    }
    return this.#data.stream;
  }
  bufferStdin(maxBytes: number): Promise<Buffer | undefined> {
    return this.#stdin.collect(maxBytes);
  }
  bufferData(maxBytes: number): Promise<Buffer | undefined> {
    if (!this.#data) return Promise.resolve(EMPTY);
    return this.#data.collect(maxBytes);
  }
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#abortReason !== undefined) this.#controller.abort(abortError(this.#abortReason));
    }
    return this.#controller.signal;
  }

  // ---- input, fed by the connection ----

  get paramsDone(): boolean {
    return this.#paramsDone;
  }
  get stdinDone(): boolean {
    return this.#stdin.ended;
  }
  get acceptsData(): boolean {
    return this.role === 'filter';
  }
  get dataDone(): boolean {
    return this.#data?.ended ?? true;
  }

  /** Feeds FCGI_PARAMS content; returns the limit error that stops the request, if any. */
  pushParams(content: Buffer): NameValueError | undefined {
    return this.#parser.push(content);
  }

  /** The empty FCGI_PARAMS record: returns the error (truncated pair) if the stream is malformed. */
  endParams(): NameValueError | undefined {
    this.#paramsDone = true;
    return this.#parser.end();
  }

  /** Feeds FCGI_STDIN; false when the handler has too much unread. */
  pushStdin(content: Buffer): boolean {
    if (content.length === 0) {
      this.#stdin.end();
      return true;
    }
    return this.#finished || this.#stdin.push(content);
  }

  pushData(content: Buffer): boolean {
    const data = this.#data;
    if (!data) return true;
    if (content.length === 0) {
      data.end();
      return true;
    }
    return this.#finished || data.push(content);
  }

  /** PARAMS is complete: run the handler (after the `delay` fault, if any). */
  start(): void {
    if (this.faults.any) {
      const flood = this.faults.arg('stderr-flood');
      if (flood) this.#floodStderr(flood);
      const delay = this.faults.arg('delay');
      if (delay) {
        this.#timer = setTimeout(() => this.#invoke(), delay);
        return;
      }
    }
    this.#invoke();
  }

  #invoke(): void {
    this.#timer = undefined;
    if (this.#finished) return;
    try {
      const result: unknown = this.host.handler(this, this);
      if (result instanceof Promise) result.then(undefined, (err: unknown) => this.#handlerFailed(err));
    } catch (err) {
      this.#handlerFailed(err);
    }
  }

  #handlerFailed(err: unknown): void {
    if (this.#finished) return;
    const message = err instanceof Error ? err.message : String(err);
    this.#emit(FCGI_STDERR, encoder.encode(`handler error: ${message}\n`));
    this.#endCalled = true;
    this.#finish(1, false);
  }

  #floodStderr(bytes: number): void {
    const line = encoder.encode('fcgispec stderr flood 0123456789abcdefghijklmnopqrstuvwxyz\n');
    const block = new Uint8Array(MAX_RECORD_CONTENT);
    for (let i = 0; i < block.length; i++) block[i] = line[i % line.length]!;
    for (let left = bytes; left > 0; left -= block.length) this.#emit(FCGI_STDERR, block.subarray(0, Math.min(left, block.length)));
  }

  /** FCGI_ABORT_REQUEST for this request. @see §5.4 */
  abortByPeer(): void {
    if (this.#finished) return;
    if (this.faults.any) {
      if (this.faults.has('ignore-abort')) return;
      if (this.faults.has('reset-on-abort')) {
        this.host.kill('reset', 'fault reset-on-abort');
        return;
      }
    }
    this.#abort('FCGI_ABORT_REQUEST');
    // "The application responds as soon as possible": unless an abort listener ended it, end it now (with the
    // handler's status if it was already ending, its output still queued being dropped).
    if (!this.#finished) this.#finish(this.#endCalled ? this.#endStatus : this.abortAppStatus >>> 0, true);
  }

  /** The connection closed: the request dies without output. */
  connectionClosed(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#endCalled = true;
    this.#abort('connection closed');
    this.#cleanup(true);
    this.host.finished(this);
  }

  #abort(reason: string): void {
    if (this.#abortReason !== undefined) return;
    this.#abortReason = reason;
    this.#controller?.abort(abortError(reason));
  }

  // ---- FcgiResponse ----

  get stdout(): Writable {
    return (this.#stdoutW ??= this.#writable(FCGI_STDOUT));
  }
  get stderr(): Writable {
    return (this.#stderrW ??= this.#writable(FCGI_STDERR));
  }
  get ended(): boolean {
    return this.#endCalled || this.#finished;
  }
  get stdoutBytes(): number {
    return this.#stdoutBytes;
  }

  write(chunk: Uint8Array | string): Promise<void> {
    if (this.#endCalled || this.#finished) return RESOLVED;
    this.#emit(FCGI_STDOUT, toChunk(chunk));
    return this.host.writer.whenDrained();
  }

  writeStderr(chunk: Uint8Array | string): Promise<void> {
    if (this.#endCalled || this.#finished) return RESOLVED;
    this.#emit(FCGI_STDERR, toChunk(chunk));
    return this.host.writer.whenDrained();
  }

  end(appStatus = 0): void {
    if (this.#endCalled || this.#finished) return;
    this.#endCalled = true;
    const status = Number.isSafeInteger(appStatus) ? appStatus >>> 0 : 0;
    this.#endStatus = status;
    const pending = [this.#stdoutW, this.#stderrW].filter((w): w is Writable => w !== undefined && !w.writableFinished && !w.destroyed);
    if (pending.length === 0) {
      this.#finish(status, false);
      return;
    }
    let left = pending.length;
    for (const w of pending) {
      let counted = false;
      const done = (): void => {
        if (counted) return;
        counted = true;
        if (--left === 0) this.#finish(status, false);
      };
      w.once('finish', done);
      w.once('close', done);
      if (!w.writableEnded) w.end();
    }
  }

  #writable(type: number): Writable {
    return new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        if (!this.#finished) this.#emit(type, chunk);
        if (this.host.writer.congested) this.host.writer.whenDrained().then(() => callback(), callback);
        else callback();
      },
    });
  }

  // ---- output ----

  #emit(type: number, data: Uint8Array): void {
    if (data.length === 0) return; // an empty record would end the stream
    let offset: number; // of `data` in its stream
    if (type === FCGI_STDOUT) {
      offset = this.#stdoutBytes;
      if (offset === 0 && this.host.onRequestEnd) this.#firstStdout = data.subarray(0, 32);
      this.#stdoutBytes += data.length;
    } else {
      offset = this.#stderrBytes;
      this.#stderrBytes += data.length;
    }
    if (!this.faults.any) {
      this.host.writer.stream(type, this.requestId, data);
      return;
    }
    const tiny = Math.max(1, this.faults.arg('tiny-records') ?? MAX_RECORD_CONTENT);
    for (let at = 0; at < data.length; ) {
      const size = offset + at < TINY_RECORDS_SPAN ? Math.min(tiny, TINY_RECORDS_SPAN - offset - at) : MAX_RECORD_CONTENT;
      const record: OutRecord = { type, content: data.subarray(at, at + size) };
      at += size;
      if (this.#held) this.#held.push(record);
      else this.#deliverFaulty(record);
    }
  }

  #deliverFaulty(record: OutRecord): void {
    const bytes = encodeFaulty(this.requestId, record, this.faults);
    if (this.#timed) this.#timed.push(bytes);
    else this.host.writer.raw(bytes);
  }

  /** Terminates the streams and sends FCGI_END_REQUEST. @see §5.3 §5.5 */
  #finish(appStatus: number, aborted: boolean): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#cleanup(aborted);
    if (!this.faults.any) this.host.writer.raw(encodeEndRecords(this.requestId, this.#stderrBytes > 0, appStatus));
    else this.#finishFaulty(appStatus);
    this.#log(FCGI_REQUEST_COMPLETE, appStatus, aborted);
    this.host.finished(this);
  }

  #finishFaulty(appStatus: number): void {
    const fx = this.faults;
    if (fx.has('no-stderr-end') && this.#stderrBytes === 0) this.#emit(FCGI_STDERR, faultLine('no-stderr-end'));
    const terminators: OutRecord[] = [];
    if (!fx.has('no-stdout-end')) terminators.push(STDOUT_END);
    if (this.#stderrBytes > 0 && !fx.has('no-stderr-end')) terminators.push(STDERR_END);
    const status = fx.has('wrong-app-status') ? (appStatus + 1) >>> 0 : appStatus;
    const end: OutRecord = { type: FCGI_END_REQUEST, content: encodeEndRequestBody({ appStatus: status, protocolStatus: FCGI_REQUEST_COMPLETE }) };
    const ends = fx.has('no-end-request') ? [] : fx.has('duplicate-end-request') ? [end, end] : [end];
    const held = this.#held ?? [];
    this.#held = undefined;
    const order = this.faults.has('end-before-stdout') ? [...ends, ...held, ...terminators] : [...held, ...terminators, ...ends];
    if (fx.has('output-after-end')) order.push({ type: FCGI_STDOUT, content: faultLine('output-after-end') });
    for (const r of order) this.#deliverFaulty(r);
  }

  #cleanup(aborted: boolean): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#stdin.close(aborted);
    this.#data?.close(aborted);
    if (this.#stdoutW && !this.#stdoutW.writableFinished) this.#stdoutW.destroy();
    if (this.#stderrW && !this.#stderrW.writableFinished) this.#stderrW.destroy();
  }

  #log(protocolStatus: number, appStatus: number, aborted: boolean): void {
    const log = this.host.onRequestEnd;
    if (!log) return;
    log({
      connectionId: this.host.connectionId,
      requestId: this.requestId,
      role: this.role,
      param: (name: string) => this.paramBytes(name)?.toString('utf8'),
      protocolStatus,
      appStatus,
      cgiStatus: sniffCgiStatus(this.#firstStdout),
      stdoutBytes: this.#stdoutBytes,
      stderrBytes: this.#stderrBytes,
      aborted,
      durationMs: performance.now() - this.#startedAt,
      faults: this.faults.names(),
    });
  }
}

/** The status a CGI response starts with: its `Status:` line, else 200; undefined without output. @see §6.1 */
export function sniffCgiStatus(start: Uint8Array | undefined): number | undefined {
  if (!start || start.length === 0) return undefined;
  const m = /^status:[ \t]*([0-9]{3})/i.exec(Buffer.from(start.buffer, start.byteOffset, start.length).toString('latin1'));
  return m ? Number(m[1]) : 200;
}

/** A rejection (FCGI_END_REQUEST with a protocolStatus other than REQUEST_COMPLETE), for the log. */
export function rejectionLogEntry(connectionId: number, requestId: number, role: number, protocolStatus: number): RequestLogEntry {
  return {
    connectionId,
    requestId,
    role: (roleNames as Record<number, string | undefined>)[role] ?? `role ${role}`,
    param: () => undefined,
    protocolStatus,
    appStatus: 0,
    cgiStatus: undefined,
    stdoutBytes: 0,
    stderrBytes: 0,
    aborted: false,
    durationMs: 0,
    faults: [],
  };
}
