/**
 * The reference FastCGI application (responder library): listens on TCP, a Unix socket or the inherited
 * FCGI_LISTENSOCK_FILENO, or serves any Duplex; runs a handler per request.
 * @see §2.2 §3.2 §4.1
 */
import { createServer, type Server, type Socket } from 'node:net';
import { chmod } from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import { roleNames, type RoleName } from '../../spec/constants.ts';
import { formatAddress, parseAddress, type Address } from '../address.ts';
import { listenOn, listenUnix } from '../listen.ts';
import { ResponderConnection, type ConnectionOwner } from './connection.ts';
import { FaultPlan } from './faults.ts';
import { parseWebServerAddrs, peerAllowed } from './peer-check.ts';
import { defaultResponderLimits, type Handler, type RequestLogEntry, type ResponderLimits, type ResponderOptions } from './types.ts';

/** Where a responder listens, once it does. */
export interface ListenResult {
  /** The bound address (a TCP port 0 resolved to the real port). */
  readonly address: Address;
  /** The same, written as `tcp:HOST:PORT`, `unix:PATH` or `fd:N`. */
  readonly text: string;
}

/** Options of `Responder.listen`. */
export interface ListenOptions {
  /** File mode set on a Unix socket once listening (e.g. 0o666 for web servers running as another user). */
  readonly unixMode?: number;
}

const allRoles = Object.values(roleNames) as RoleName[];

/** Creates a responder; call `listen()` or `serveConnection()` to serve. */
export function createResponder(options: ResponderOptions): Responder {
  return new Responder(options);
}

/** A reference FastCGI application. */
export class Responder implements ConnectionOwner {
  readonly handler: Handler;
  readonly limits: ResponderLimits;
  readonly roles: ReadonlySet<RoleName>;
  readonly multiplex: boolean;
  readonly maxConns: number;
  readonly maxReqs: number;
  readonly abortAppStatus: number;
  readonly faults: FaultPlan;
  readonly onRequestEnd: ((entry: RequestLogEntry) => void) | undefined;
  /** Peers admitted by FCGI_WEB_SERVER_ADDRS, or undefined when the variable is not bound. */
  readonly webServerAddrs: ReadonlySet<string> | undefined;
  activeRequests = 0;

  readonly #onConnectionError: ((connectionId: number, reason: string) => void) | undefined;
  readonly #servers = new Set<Server>();
  readonly #connections = new Set<ResponderConnection>();
  #idleWaiters: (() => void)[] = [];
  #nextConnectionId = 1;

  constructor(options: ResponderOptions) {
    this.handler = options.handler;
    this.limits = { ...defaultResponderLimits, ...options.limits };
    this.roles = new Set(options.roles ?? allRoles);
    this.multiplex = options.multiplex ?? true;
    this.maxConns = positive(options.maxConns ?? 1024, 'maxConns');
    this.maxReqs = positive(options.maxReqs ?? 4096, 'maxReqs');
    this.abortAppStatus = (options.abortAppStatus ?? 0) >>> 0;
    this.faults = new FaultPlan(options.faults ?? []);
    this.onRequestEnd = options.onRequestEnd;
    this.#onConnectionError = options.onConnectionError;
    const addrs = options.webServerAddrs === undefined ? process.env['FCGI_WEB_SERVER_ADDRS'] : options.webServerAddrs;
    this.webServerAddrs = addrs === null || addrs === undefined ? undefined : parseWebServerAddrs(addrs);
  }

  /** Open connections. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /**
   * Listens on `tcp:HOST:PORT`, `unix:PATH` or `fd:N` (N = 0 is FCGI_LISTENSOCK_FILENO, the socket a web
   * server hands to the application it spawns, §2.2). Resolves once listening.
   */
  async listen(address: Address | string, options: ListenOptions = {}): Promise<ListenResult> {
    const addr = typeof address === 'string' ? parseAddress(address) : address;
    const server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.#accept(socket));
    server.on('error', () => {}); // errors after listening (EMFILE on accept) must not crash; listen errors reject below
    if (addr.kind === 'unix') await listenUnix(server, addr.path);
    else await listenOn(server, addr.kind === 'tcp' ? { host: addr.host, port: addr.port } : { fd: addr.fd });
    this.#servers.add(server);
    if (addr.kind === 'unix' && options.unixMode !== undefined) await chmod(addr.path, options.unixMode);
    const bound = server.address();
    const resolved: Address = addr.kind === 'tcp' && bound && typeof bound === 'object' ? { kind: 'tcp', host: addr.host, port: bound.port } : addr;
    return { address: resolved, text: formatAddress(resolved) };
  }

  /**
   * Serves one already-connected Duplex (a socket from elsewhere, or an in-memory pair in tests).
   * FCGI_WEB_SERVER_ADDRS and maxConns apply to accepted connections only.
   */
  serveConnection(duplex: Duplex): ResponderConnection {
    const connection = new ResponderConnection(duplex, this, this.#nextConnectionId++);
    this.#connections.add(connection);
    return connection;
  }

  /**
   * Stops listening, lets active requests finish for `graceMs` (closing each connection once idle),
   * then destroys what is left.
   */
  async close(options: { readonly graceMs?: number } = {}): Promise<void> {
    const closing = [...this.#servers].map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    this.#servers.clear();
    for (const c of this.#connections) c.closeWhenIdle();
    const grace = options.graceMs ?? 5000;
    if (this.#connections.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.#idleWaiters.push(resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, grace))),
      ]);
      clearTimeout(timer);
    }
    for (const c of [...this.#connections]) c.destroy();
    await Promise.all(closing);
  }

  // ---- ConnectionOwner ----

  connectionError(connectionId: number, reason: string): void {
    this.#onConnectionError?.(connectionId, reason);
  }

  connectionClosed(connection: ResponderConnection): void {
    this.#connections.delete(connection);
    if (this.#connections.size === 0 && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  #accept(socket: Socket): void {
    socket.on('error', () => {});
    // §3.2: checked "immediately" after accept; a failing peer is closed without a record.
    if (this.webServerAddrs && !peerAllowed(socket.remoteAddress, this.webServerAddrs)) {
      this.#onConnectionError?.(0, `peer ${socket.remoteAddress ?? '(not TCP/IP)'} is not in FCGI_WEB_SERVER_ADDRS`);
      socket.destroy();
      return;
    }
    // Past FCGI_MAX_CONNS a connection is accepted and closed at once (Node cannot leave it in the backlog).
    if (this.#connections.size >= this.maxConns) {
      this.#onConnectionError?.(0, `more than FCGI_MAX_CONNS=${this.maxConns} connections`);
      socket.destroy();
      return;
    }
    this.serveConnection(socket);
  }
}

function positive(n: number, what: string): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`${what} must be a positive integer`);
  return n;
}
