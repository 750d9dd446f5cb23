/**
 * One transport connection of the reference responder: decodes records, answers management records,
 * starts and rejects requests, routes input, and closes the connection when the requests allow it.
 * @see §3.3 §3.5 §4 §5
 */
import type { Duplex } from 'node:stream';
import {
  FCGI_ABORT_REQUEST,
  FCGI_BEGIN_REQUEST,
  FCGI_CANT_MPX_CONN,
  FCGI_DATA,
  FCGI_END_REQUEST,
  FCGI_FIXED_BODY_LEN,
  FCGI_GET_VALUES,
  FCGI_GET_VALUES_RESULT,
  FCGI_KEEP_CONN,
  FCGI_MAX_CONNS,
  FCGI_MAX_REQS,
  FCGI_MPXS_CONNS,
  FCGI_OVERLOADED,
  FCGI_PARAMS,
  FCGI_STDIN,
  FCGI_UNKNOWN_ROLE,
  FCGI_UNKNOWN_TYPE,
  FCGI_VERSION_1,
  roleNames,
  roleNumbers,
  type RoleName,
} from '../../spec/constants.ts';
import { encodeEndRequestBody, encodeUnknownTypeBody } from '../codec/bodies.ts';
import { decodeNameValuePairs, encodeNameValuePairs, toText } from '../codec/name-value.ts';
import { Framer, type FrameSink } from './framer.ts';
import { Exchange, rejectionLogEntry, type ExchangeHost } from './exchange.ts';
import type { ActiveFaults, FaultPlan } from './faults.ts';
import { encodeRecords, RecordWriter } from './output.ts';
import type { Handler, RequestLogEntry, ResponderLimits } from './types.ts';

/** What a connection needs from its responder. */
export interface ConnectionOwner {
  readonly handler: Handler;
  readonly limits: ResponderLimits;
  readonly roles: ReadonlySet<RoleName>;
  readonly multiplex: boolean;
  readonly maxConns: number;
  readonly maxReqs: number;
  readonly abortAppStatus: number;
  readonly faults: FaultPlan;
  readonly onRequestEnd: ((entry: RequestLogEntry) => void) | undefined;
  /** Requests active over all connections. */
  activeRequests: number;
  connectionError(connectionId: number, reason: string): void;
  connectionClosed(connection: ResponderConnection): void;
}

/** Unsent output past which the connection stops reading (a peer that floods queries and never reads). */
const MAX_PENDING_OUTPUT = 1024 * 1024;
/** After we end our side, how long the peer has to close before the socket is destroyed. */
const CLOSE_LINGER_MS = 5000;

/** Serves one connection. Created by `Responder.serveConnection`. */
export class ResponderConnection implements ExchangeHost, FrameSink {
  readonly connectionId: number;
  readonly writer: RecordWriter;
  readonly #socket: Duplex;
  readonly #owner: ConnectionOwner;
  readonly #framer: Framer = new Framer(this);
  readonly #requests = new Map<number, Exchange>();
  readonly #stalled = new Set<Exchange>();
  #paused = false;
  #closeWhenIdle = false;
  #peerEnded = false;
  #dead = false; // no more input is processed
  #ending = false; // our side is ended or being ended
  #closed = false;
  #queues = 0;
  #linger: NodeJS.Timeout | undefined;

  constructor(socket: Duplex, owner: ConnectionOwner, connectionId: number) {
    this.#socket = socket;
    this.#owner = owner;
    this.connectionId = connectionId;
    this.writer = new RecordWriter(socket);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onPeerEnd());
    socket.on('drain', () => this.#updateFlow());
    socket.on('error', () => {}); // 'close' follows; nothing a peer does may throw here
    socket.on('close', () => this.#onClose());
  }

  // ---- ExchangeHost ----

  get handler(): Handler {
    return this.#owner.handler;
  }
  get limits(): ResponderLimits {
    return this.#owner.limits;
  }
  get abortAppStatus(): number {
    return this.#owner.abortAppStatus;
  }
  get onRequestEnd(): ((entry: RequestLogEntry) => void) | undefined {
    return this.#owner.onRequestEnd;
  }

  stall(exchange: Exchange): void {
    this.#stalled.add(exchange);
    this.#updateFlow();
  }

  unstall(exchange: Exchange): void {
    if (this.#stalled.delete(exchange)) this.#updateFlow();
  }

  finished(exchange: Exchange): void {
    if (this.#requests.get(exchange.requestId) !== exchange) return;
    this.#requests.delete(exchange.requestId);
    this.#owner.activeRequests--;
    this.unstall(exchange);
    if (this.#closed) return;
    const fx = exchange.faults;
    // §5.1: "If zero, the application closes the connection after responding to this request."
    let close = !exchange.keepConn;
    if (fx.any) {
      if (fx.has('ignore-keep-conn')) close = true;
      if (fx.has('never-close')) close = false;
    }
    if (close) this.#closeWhenIdle = true;
    this.#maybeEnd();
  }

  queueStarted(): void {
    this.#queues++;
  }

  queueDrained(): void {
    this.#queues--;
    this.#maybeEnd();
  }

  kill(how: 'end' | 'reset', reason: string): void {
    this.#owner.connectionError(this.connectionId, reason);
    this.#dead = true;
    if (how === 'reset') this.#ending = true; // no FIN may go out before the RST
    this.#abortAll();
    if (how === 'reset') {
      // An RST needs TCP; any other transport is simply destroyed.
      const socket = this.#socket as Duplex & { resetAndDestroy?: () => void };
      try {
        if (typeof socket.resetAndDestroy !== 'function') throw new Error('no reset');
        socket.resetAndDestroy();
      } catch {
        socket.destroy();
      }
      return;
    }
    this.#endOurSide();
  }

  // ---- public ----

  /** Requests active on this connection. */
  get activeRequests(): number {
    return this.#requests.size;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Closes once the active requests are done (graceful shutdown). */
  closeWhenIdle(): void {
    this.#closeWhenIdle = true;
    this.#maybeEnd();
  }

  /** Closes at once; active requests are aborted without output. */
  destroy(): void {
    this.#dead = true;
    this.#ending = true;
    this.#abortAll();
    this.#socket.destroy();
  }

  // ---- input ----

  #onData(chunk: Buffer): void {
    if (this.#dead) return;
    if (!this.#framer.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk))) return;
    if (this.#socket.writableLength > MAX_PENDING_OUTPUT) this.#updateFlow();
  }

  // ---- FrameSink ----

  header(version: number): boolean {
    // Checked on the header alone, so garbage is refused before its "content" is awaited.
    if (version === FCGI_VERSION_1) return true;
    this.#protocolError(`record version ${version}`);
    return false;
  }

  record(type: number, requestId: number, content: Buffer): boolean {
    this.#handle(type, requestId, content);
    return !this.#dead;
  }

  #handle(type: number, requestId: number, content: Buffer): void {
    // §3.3: management records have requestId 0; every other id names an application request.
    if (requestId === 0) return this.#management(type, content);
    if (type === FCGI_BEGIN_REQUEST) return this.#begin(requestId, content);
    const ex = this.#requests.get(requestId);
    // §3.3: "while a request ID R is inactive, the application ignores records with requestId == R,
    // except for FCGI_BEGIN_REQUEST records".
    if (!ex) return;
    switch (type) {
      case FCGI_ABORT_REQUEST:
        return ex.abortByPeer();
      case FCGI_PARAMS:
        return this.#params(ex, content);
      case FCGI_STDIN:
        if (!ex.paramsDone) return this.#protocolError(`FCGI_STDIN for request ${requestId} before its FCGI_PARAMS ended`);
        if (ex.stdinDone) return; // stray record after the stream's end: ignored
        if (!ex.pushStdin(content)) this.stall(ex);
        return;
      case FCGI_DATA:
        if (!ex.acceptsData || ex.dataDone) return;
        if (!ex.stdinDone) return this.#protocolError(`FCGI_DATA for request ${requestId} before its FCGI_STDIN ended`);
        if (!ex.pushData(content)) this.stall(ex);
        return;
      default:
        return; // application records of other types are skipped (FCGI-X-unknown-app-type-app)
    }
  }

  #params(ex: Exchange, content: Buffer): void {
    if (ex.paramsDone) return;
    if (content.length > 0) {
      const error = ex.pushParams(content);
      // Past the params bounds the request is rejected as the resource shortage it is (§5.5 FCGI_OVERLOADED).
      if (error) this.#rejectActive(ex, `FCGI_PARAMS ${error.kind} (limit ${'limit' in error ? error.limit : '?'})`);
      return;
    }
    const error = ex.endParams();
    if (error) return this.#protocolError(`FCGI_PARAMS of request ${ex.requestId} ends inside a name-value pair`);
    ex.start();
  }

  /** §5.1 */
  #begin(id: number, content: Uint8Array): void {
    if (content.length !== FCGI_FIXED_BODY_LEN) {
      return this.#protocolError(`FCGI_BEGIN_REQUEST body of ${content.length} bytes (expected 8)`);
    }
    if (this.#requests.has(id)) return this.#protocolError(`FCGI_BEGIN_REQUEST for request ${id}, which is active`);
    const owner = this.#owner;
    const role = (content[0]! << 8) | content[1]!;
    const flags = content[2]!;
    const fx = owner.faults.draw('request');
    let roleName: RoleName | undefined = (roleNames as Record<number, RoleName | undefined>)[role];
    if (roleName === undefined || !owner.roles.has(roleName)) {
      if (!fx.has('wrong-unknown-role')) return this.#reject(id, role, flags, FCGI_UNKNOWN_ROLE);
      roleName = 'responder';
    }
    if (this.#requests.size > 0 && this.#refusesSecond(fx)) return this.#reject(id, role, flags, FCGI_CANT_MPX_CONN);
    if (owner.activeRequests >= owner.maxReqs) return this.#reject(id, role, flags, FCGI_OVERLOADED);
    const ex = new Exchange(this, id, roleName, flags, fx);
    this.#requests.set(id, ex);
    owner.activeRequests++;
  }

  #refusesSecond(fx: ActiveFaults): boolean {
    if (!fx.any) return !this.#owner.multiplex;
    if (fx.has('no-cant-mpx')) return false;
    return !this.#owner.multiplex || fx.has('lie-mpxs');
  }

  /** Rejects a new request: FCGI_END_REQUEST with a protocolStatus, the id never becomes active. @see §5.5 */
  #reject(requestId: number, role: number, flags: number, protocolStatus: number): void {
    this.writer.raw(endRequest(requestId, 0, protocolStatus));
    this.#owner.onRequestEnd?.(rejectionLogEntry(this.connectionId, requestId, role, protocolStatus));
    // A rejection alongside other active requests does not decide the connection's lifetime.
    if ((flags & FCGI_KEEP_CONN) === 0 && this.#requests.size === 0) {
      this.#closeWhenIdle = true;
      this.#maybeEnd();
    }
  }

  /** Ends an active request whose input broke a bound: FCGI_END_REQUEST {0, FCGI_OVERLOADED}. */
  #rejectActive(ex: Exchange, reason: string): void {
    this.#owner.connectionError(this.connectionId, `request ${ex.requestId} rejected: ${reason}`);
    this.#requests.delete(ex.requestId);
    this.#owner.activeRequests--;
    ex.connectionClosed(); // releases its streams; it is no longer in the table, so no second accounting
    this.#reject(ex.requestId, roleNumbers[ex.role], ex.flags, FCGI_OVERLOADED);
  }

  /** §4: management records. */
  #management(type: number, content: Uint8Array): void {
    const fx = this.#owner.faults.draw('management');
    if (type === FCGI_GET_VALUES) {
      if (!fx.has('no-get-values')) this.writer.raw(encodeRecords(0, [{ type: FCGI_GET_VALUES_RESULT, content: this.#getValues(content) }]));
      return;
    }
    // §4.2, including types this side never receives (GET_VALUES_RESULT, UNKNOWN_TYPE) and the
    // application types sent on id 0: none of them is a management type the application understands.
    if (!fx.has('no-unknown-type')) {
      this.writer.raw(encodeRecords(0, [{ type: FCGI_UNKNOWN_TYPE, content: encodeUnknownTypeBody({ type }) }]));
    }
  }

  /** §4.1: values for the names asked, each once, unknown names left out. */
  #getValues(query: Uint8Array): Uint8Array {
    const owner = this.#owner;
    const { pairs } = decodeNameValuePairs(query, { maxPairs: 1000 });
    const answers: [string, string][] = [];
    const seen = new Set<string>();
    for (const p of pairs) {
      const name = toText(p.name);
      if (seen.has(name)) continue;
      seen.add(name);
      if (name === FCGI_MAX_CONNS) answers.push([name, String(owner.maxConns)]);
      else if (name === FCGI_MAX_REQS) answers.push([name, String(owner.maxReqs)]);
      else if (name === FCGI_MPXS_CONNS) answers.push([name, this.#claimsMultiplex() ? '1' : '0']);
    }
    return encodeNameValuePairs(answers);
  }

  #claimsMultiplex(): boolean {
    const plan = this.#owner.faults;
    if (plan.configured('lie-mpxs')) return true;
    if (plan.configured('no-cant-mpx')) return false;
    return this.#owner.multiplex;
  }

  // ---- flow and lifetime ----

  #updateFlow(): void {
    if (this.#closed) return;
    const pause = this.#stalled.size > 0 || this.#socket.writableLength > MAX_PENDING_OUTPUT;
    if (pause === this.#paused) return;
    this.#paused = pause;
    if (pause) this.#socket.pause();
    else this.#socket.resume();
  }

  #protocolError(reason: string): void {
    this.kill('end', `protocol error: ${reason}`);
  }

  // §5.4: "the Web server can abort a request by closing the request's transport connection". A FIN is all
  // we see of that close, so it aborts the active requests; output already queued is still flushed.
  #onPeerEnd(): void {
    this.#peerEnded = true;
    this.#dead = true;
    this.#abortAll();
    this.#maybeEnd();
  }

  #maybeEnd(): void {
    if (this.#ending || this.#closed) return;
    if (!this.#closeWhenIdle && !this.#peerEnded) return;
    if (this.#requests.size > 0 || this.#queues > 0) return;
    this.#endOurSide();
  }

  #endOurSide(): void {
    if (this.#ending) return;
    this.#ending = true;
    this.#dead = true;
    this.writer.end();
    // The peer normally closes in turn; one that does not is cut off.
    this.#linger = setTimeout(() => this.#socket.destroy(), CLOSE_LINGER_MS).unref();
  }

  #abortAll(): void {
    for (const ex of [...this.#requests.values()]) ex.connectionClosed();
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#dead = true;
    if (this.#linger) clearTimeout(this.#linger);
    this.#abortAll();
    this.#stalled.clear();
    this.#owner.connectionClosed(this);
  }
}

function endRequest(requestId: number, appStatus: number, protocolStatus: number): Uint8Array {
  return encodeRecords(requestId, [{ type: FCGI_END_REQUEST, content: encodeEndRequestBody({ appStatus, protocolStatus }) }]);
}
