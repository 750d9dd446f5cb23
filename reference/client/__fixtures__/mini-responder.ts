/**
 * Test fixtures for the client: an in-memory Duplex pair with real backpressure, and a tiny FastCGI
 * responder built on the codec (enough to answer, multiplex, honour abort and keep-conn), over any Duplex
 * or a node:net listener. Not the reference responder: small on purpose, so client tests depend on nothing else.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import {
  FCGI_ABORT_REQUEST,
  FCGI_BEGIN_REQUEST,
  FCGI_CANT_MPX_CONN,
  FCGI_DATA,
  FCGI_END_REQUEST,
  FCGI_FILTER,
  FCGI_GET_VALUES,
  FCGI_GET_VALUES_RESULT,
  FCGI_KEEP_CONN,
  FCGI_PARAMS,
  FCGI_REQUEST_COMPLETE,
  FCGI_STDERR,
  FCGI_STDIN,
  FCGI_STDOUT,
  FCGI_UNKNOWN_TYPE,
} from '../../../spec/constants.ts';
import { RecordDecoder, encodeRecord, encodeStream, type DecodedRecord } from '../../codec/record.ts';
import { decodeBeginRequestBody, encodeEndRequestBody, encodeUnknownTypeBody } from '../../codec/bodies.ts';
import { decodeNameValuePairs, encodeNameValuePairs, pairsToMap, toBytes } from '../../codec/name-value.ts';

/** One side of an in-memory connection. Writes wait until the other side reads (backpressure). */
class PairSide extends Duplex {
  peer!: PairSide;
  #onPeerRead: (() => void) | undefined;

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.peer.destroyed) return callback();
    if (this.peer.push(chunk)) callback();
    else this.peer.#onPeerRead = callback;
  }
  override _read(): void {
    const cb = this.#onPeerRead;
    this.#onPeerRead = undefined;
    cb?.();
  }
  override _final(callback: (error?: Error | null) => void): void {
    if (!this.peer.destroyed) this.peer.push(null);
    callback();
  }
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const cb = this.peer.#onPeerRead;
    this.peer.#onPeerRead = undefined;
    cb?.();
    if (!this.peer.destroyed) this.peer.destroy();
    callback(error);
  }
}

/** Two connected Duplexes: what one writes, the other reads. */
export function duplexPair(): [Duplex, Duplex] {
  const a = new PairSide();
  const b = new PairSide();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

export interface MiniRequest {
  readonly conn: number;
  readonly id: number;
  readonly role: number;
  readonly flags: number;
  readonly params: Map<string, string>;
  readonly stdin: Buffer;
  readonly data: Buffer;
}

export interface MiniReply {
  stdout(bytes: string | Uint8Array): void;
  stderr(bytes: string | Uint8Array): void;
  /** Ends the streams and sends FCGI_END_REQUEST; closes the connection when FCGI_KEEP_CONN was not set. */
  end(appStatus?: number, protocolStatus?: number): void;
  /** Drops the connection at once, answering nothing. */
  drop(): void;
  /** Resolves when FCGI_ABORT_REQUEST arrives for this request. */
  readonly aborted: Promise<void>;
}

export type MiniHandler = (req: MiniRequest, reply: MiniReply) => void | Promise<void>;

export interface MiniOptions {
  readonly handler?: MiniHandler;
  /** The FCGI_GET_VALUES answer: values to report, `unknown-type`, or `silent` (no answer). */
  readonly values?: Readonly<Record<string, string>> | 'unknown-type' | 'silent';
  /** Accepts several requests at once per connection (default true); else FCGI_CANT_MPX_CONN. */
  readonly mpxs?: boolean;
  /** On FCGI_ABORT_REQUEST: answer with FCGI_END_REQUEST (appStatus 1, the default) or ignore it. */
  readonly onAbort?: 'end' | 'ignore';
}

/** A record as the responder received it. */
export interface Received {
  readonly conn: number;
  readonly type: number;
  readonly requestId: number;
  readonly contentLength: number;
  readonly paddingLength: number;
}

interface State {
  readonly id: number;
  readonly role: number;
  readonly flags: number;
  params: Uint8Array[];
  stdin: Uint8Array[];
  data: Uint8Array[];
  started: boolean;
  ended: boolean;
  abort: () => void;
  readonly aborted: Promise<void>;
}

const echo: MiniHandler = (req, reply) => {
  reply.stdout(`Content-Type: text/plain\r\n\r\nid=${req.id} stdin=${req.stdin.length}`);
  reply.end();
};

/** A small FastCGI responder for tests. */
export class MiniResponder {
  readonly options: MiniOptions;
  /** Every record received, in order, across connections (bounded by the test's own size). */
  readonly received: Received[] = [];
  #open = 0;
  #peak = 0;
  #total = 0;
  readonly #sockets = new Set<Duplex>();
  #server: Server | undefined;

  constructor(options: MiniOptions = {}) {
    this.options = options;
  }

  get openConnections(): number {
    return this.#open;
  }
  get peakConnections(): number {
    return this.#peak;
  }
  get totalConnections(): number {
    return this.#total;
  }

  /** Serves one connection. */
  serve(socket: Duplex): void {
    const conn = this.#total++;
    this.#open++;
    this.#peak = Math.max(this.#peak, this.#open);
    this.#sockets.add(socket);
    const decoder = new RecordDecoder();
    const states = new Map<number, State>();
    const write = (bytes: Uint8Array): void => {
      if (!socket.destroyed && !socket.writableEnded) socket.write(bytes);
    };
    let closed = false;
    const onClose = (): void => {
      if (closed) return;
      closed = true;
      this.#open--;
      this.#sockets.delete(socket);
    };
    socket.on('close', onClose);
    socket.on('end', () => socket.end());
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      for (const r of decoder.push(chunk)) {
        this.received.push({ conn, type: r.type, requestId: r.requestId, contentLength: r.content.length, paddingLength: r.paddingLength });
        this.#onRecord(conn, socket, states, r, write);
      }
    });
  }

  /** Listens on TCP port 0 (default) or a Unix socket path; returns the address in `tcp:`/`unix:` form. */
  async listen(path?: string): Promise<string> {
    const server = createServer((s: Socket) => this.serve(s));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      if (path) server.listen(path, resolve);
      else server.listen(0, '127.0.0.1', resolve);
    });
    const address = server.address();
    return typeof address === 'string' ? `unix:${address}` : `tcp:127.0.0.1:${address!.port}`;
  }

  /** Stops listening and drops every connection. */
  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    const server = this.#server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #onRecord(conn: number, socket: Duplex, states: Map<number, State>, r: DecodedRecord, write: (b: Uint8Array) => void): void {
    const id = r.requestId;
    if (id === 0) {
      if (r.type !== FCGI_GET_VALUES) return write(encodeRecord({ type: FCGI_UNKNOWN_TYPE, requestId: 0, content: encodeUnknownTypeBody({ type: r.type }) }));
      const values = this.options.values ?? {};
      if (values === 'silent') return;
      if (values === 'unknown-type') return write(encodeRecord({ type: FCGI_UNKNOWN_TYPE, requestId: 0, content: encodeUnknownTypeBody({ type: r.type }) }));
      const asked = decodeNameValuePairs(r.content).pairs.map((p) => Buffer.from(p.name).toString());
      const answer = asked.filter((n) => n in values).map((n) => [n, values[n]!] as const);
      return write(encodeRecord({ type: FCGI_GET_VALUES_RESULT, requestId: 0, content: encodeNameValuePairs(answer) }));
    }
    if (r.type === FCGI_BEGIN_REQUEST) {
      const body = decodeBeginRequestBody(r.content);
      const busy = [...states.values()].some((s) => !s.ended);
      if (busy && this.options.mpxs === false) {
        return write(encodeRecord({ type: FCGI_END_REQUEST, requestId: id, content: encodeEndRequestBody({ appStatus: 0, protocolStatus: FCGI_CANT_MPX_CONN }) }));
      }
      let abort!: () => void;
      const aborted = new Promise<void>((resolve) => (abort = resolve));
      states.set(id, { id, role: body.role, flags: body.flags, params: [], stdin: [], data: [], started: false, ended: false, abort, aborted });
      return;
    }
    const s = states.get(id);
    if (!s || s.ended) return; // §3.3: records for an inactive id are ignored
    switch (r.type) {
      case FCGI_PARAMS:
        if (r.content.length) s.params.push(r.content.slice());
        return;
      case FCGI_STDIN:
        if (r.content.length) s.stdin.push(r.content.slice());
        else if (s.role !== FCGI_FILTER) this.#run(conn, socket, states, s, write);
        return;
      case FCGI_DATA:
        if (r.content.length) s.data.push(r.content.slice());
        else if (s.role === FCGI_FILTER) this.#run(conn, socket, states, s, write);
        return;
      case FCGI_ABORT_REQUEST:
        s.abort();
        if (this.options.onAbort !== 'ignore') {
          s.ended = true;
          states.delete(id);
          write(encodeRecord({ type: FCGI_END_REQUEST, requestId: id, content: encodeEndRequestBody({ appStatus: 1, protocolStatus: FCGI_REQUEST_COMPLETE }) }));
          if (!(s.flags & FCGI_KEEP_CONN)) socket.end();
        }
        return;
    }
  }

  #run(conn: number, socket: Duplex, states: Map<number, State>, s: State, write: (b: Uint8Array) => void): void {
    if (s.started) return;
    s.started = true;
    const req: MiniRequest = {
      conn,
      id: s.id,
      role: s.role,
      flags: s.flags,
      params: pairsToMap(decodeNameValuePairs(Buffer.concat(s.params)).pairs),
      stdin: Buffer.concat(s.stdin),
      data: Buffer.concat(s.data),
    };
    s.stdin = [];
    s.data = [];
    let usedStderr = false;
    const reply: MiniReply = {
      stdout: (bytes) => {
        if (!s.ended) write(encodeStream(FCGI_STDOUT, s.id, toBytes(bytes), { terminate: false }));
      },
      stderr: (bytes) => {
        if (s.ended) return;
        usedStderr = true;
        write(encodeStream(FCGI_STDERR, s.id, toBytes(bytes), { terminate: false }));
      },
      end: (appStatus = 0, protocolStatus = FCGI_REQUEST_COMPLETE) => {
        if (s.ended) return;
        s.ended = true;
        states.delete(s.id);
        write(encodeRecord({ type: FCGI_STDOUT, requestId: s.id }));
        if (usedStderr) write(encodeRecord({ type: FCGI_STDERR, requestId: s.id }));
        write(encodeRecord({ type: FCGI_END_REQUEST, requestId: s.id, content: encodeEndRequestBody({ appStatus, protocolStatus }) }));
        if (!(s.flags & FCGI_KEEP_CONN)) socket.end();
      },
      aborted: s.aborted,
      drop: () => void socket.destroy(),
    };
    void Promise.resolve((this.options.handler ?? echo)(req, reply)).catch((err: unknown) => {
      reply.stderr(String(err));
      reply.end(1);
    });
  }
}

/** A promise with its resolver, for tests that release a handler on cue. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
