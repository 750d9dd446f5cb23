/**
 * The public shapes of the reference responder: options, the handler, its request and response.
 * The API follows Node's `http` in spirit: a handler receives a request and a response per FastCGI request.
 */
import type { Readable, Writable } from 'node:stream';
import type { RoleName } from '../../spec/constants.ts';
import type { NameValuePair } from '../codec/name-value.ts';
import type { ActiveFaults, Fault } from './faults.ts';

/** One FastCGI request, as the handler sees it once FCGI_PARAMS is complete. @see §5.1 §5.2 §6 */
export interface FcgiRequest {
  readonly requestId: number;
  readonly role: RoleName;
  /** The FCGI_BEGIN_REQUEST flags byte. */
  readonly flags: number;
  /** FCGI_KEEP_CONN was set: the connection stays open after this request. @see §5.1 */
  readonly keepConn: boolean;
  /** Params as text (UTF-8); for duplicate names the last value wins. */
  readonly params: ReadonlyMap<string, string>;
  /** Params exactly as received, in order, as bytes. */
  readonly paramPairs: readonly NameValuePair[];
  /** The value of the last param with this name (compared as bytes; a string is UTF-8), or undefined. */
  paramBytes(name: Uint8Array | string): Uint8Array | undefined;
  /** The FCGI_STDIN stream. Read it (or `resume()` it): unread input past a bound stops reading the connection. */
  readonly stdin: Readable;
  /** The FCGI_DATA stream (Filter role; empty and ended for the other roles). */
  readonly data: Readable;
  /**
   * Waits for the end of FCGI_STDIN, holding at most `maxBytes`: resolves with all of it (`stdin` is then
   * empty), or with undefined as soon as more arrived, or if `stdin` is already in use (nothing is
   * consumed: read `stdin`). Cheaper than the Readable for small bodies.
   */
  bufferStdin(maxBytes: number): Promise<Buffer | undefined>;
  /** `bufferStdin` for FCGI_DATA. */
  bufferData(maxBytes: number): Promise<Buffer | undefined>;
  /** Fires on FCGI_ABORT_REQUEST or when the connection closes. @see §5.4 */
  readonly signal: AbortSignal;
  /** Faults injected into this request (read by the probe app). */
  readonly faults: ActiveFaults;
  /** The connection's number within the responder, from 1. */
  readonly connectionId: number;
}

/** The answer to one request. @see §5.3 §5.5 */
export interface FcgiResponse {
  /** FCGI_STDOUT as a Writable (created on first use). Ending it does not end the request: call `end()`. */
  readonly stdout: Writable;
  /** FCGI_STDERR as a Writable (created on first use). */
  readonly stderr: Writable;
  /** Writes FCGI_STDOUT bytes; resolves when the connection can take more (backpressure). */
  write(chunk: Uint8Array | string): Promise<void>;
  /** Writes FCGI_STDERR bytes; resolves when the connection can take more. */
  writeStderr(chunk: Uint8Array | string): Promise<void>;
  /**
   * Ends the request: terminates the streams, sends FCGI_END_REQUEST {appStatus, FCGI_REQUEST_COMPLETE}.
   * Data still queued in `stdout`/`stderr` is sent first. Later writes are ignored.
   */
  end(appStatus?: number): void;
  /** True once `end()` was called or the request was aborted. */
  readonly ended: boolean;
  /** appStatus sent when the request is aborted and the handler has not ended it by then. */
  abortAppStatus: number;
  /** FCGI_STDOUT bytes written so far. */
  readonly stdoutBytes: number;
}

/**
 * Called once per request when FCGI_PARAMS is complete (§6.2: params are read before any output).
 * A handler that throws (or rejects) ends the request with appStatus 1 and the error on FCGI_STDERR.
 */
export type Handler = (request: FcgiRequest, response: FcgiResponse) => void | Promise<void>;

/** Bounds on what one peer can make the responder hold. Reaching one is handled, never a crash. */
export interface ResponderLimits {
  /** Largest name or value in FCGI_PARAMS, bytes. */
  readonly maxParamLength: number;
  /** Most pairs in one request's FCGI_PARAMS. */
  readonly maxParams: number;
  /** Most bytes of names and values in one request's FCGI_PARAMS. */
  readonly maxParamsBytes: number;
  /** Unread FCGI_STDIN/FCGI_DATA bytes per request before the connection stops being read. */
  readonly inputHighWaterMark: number;
}

export const defaultResponderLimits: ResponderLimits = {
  maxParamLength: 1024 * 1024,
  maxParams: 10_000,
  maxParamsBytes: 4 * 1024 * 1024,
  inputHighWaterMark: 64 * 1024,
};

/** What the responder tells a logger when a request ends (served, rejected or aborted). */
export interface RequestLogEntry {
  readonly connectionId: number;
  readonly requestId: number;
  /** The role name, or `role N` for a role that was rejected as unknown. */
  readonly role: string;
  /** A param's value as text (undefined when absent, and for requests rejected at FCGI_BEGIN_REQUEST). */
  param(name: string): string | undefined;
  /** protocolStatus of FCGI_END_REQUEST (0 = FCGI_REQUEST_COMPLETE). */
  readonly protocolStatus: number;
  readonly appStatus: number;
  /** The CGI status seen at the start of FCGI_STDOUT (`Status:` line, else 200), or undefined with no output. */
  readonly cgiStatus: number | undefined;
  readonly stdoutBytes: number;
  readonly stderrBytes: number;
  readonly aborted: boolean;
  readonly durationMs: number;
  readonly faults: readonly string[];
}

/** Options of `createResponder`. */
export interface ResponderOptions {
  readonly handler: Handler;
  /** Roles served; others get FCGI_UNKNOWN_ROLE. Default: all three. @see §5.1 */
  readonly roles?: readonly RoleName[];
  /** Serve concurrent requests on one connection (FCGI_MPXS_CONNS=1). Default true. @see §4.1 */
  readonly multiplex?: boolean;
  /** Most concurrent connections (FCGI_MAX_CONNS); extra connections are closed at once. Default 1024. */
  readonly maxConns?: number;
  /** Most concurrent requests over all connections (FCGI_MAX_REQS); extra ones get FCGI_OVERLOADED. Default 4096. */
  readonly maxReqs?: number;
  readonly limits?: Partial<ResponderLimits>;
  readonly faults?: readonly Fault[];
  /**
   * FCGI_WEB_SERVER_ADDRS as the environment spells it (comma-separated IPv4 addresses). Default:
   * `process.env.FCGI_WEB_SERVER_ADDRS`; `null` disables the check. @see §3.2
   */
  readonly webServerAddrs?: string | null;
  /** Default appStatus of an aborted request. Default 0. */
  readonly abortAppStatus?: number;
  /** Called when each request ends. */
  readonly onRequestEnd?: (entry: RequestLogEntry) => void;
  /** Called for a connection closed because of a protocol error or a rejected peer (for logs). */
  readonly onConnectionError?: (connectionId: number, reason: string) => void;
}
