/**
 * Public shapes of the client: what a request takes, what comes back, what a traffic observer sees.
 */
import type { Readable } from 'node:stream';
import type { RoleName } from '../../spec/constants.ts';
import type { DecodedRecord } from '../codec/record.ts';
import type { ParamsInit } from '../codec/name-value.ts';
import type { CgiParseError, CgiResponse } from '../cgi.ts';
import type { CloseKind } from './raw-connection.ts';

/**
 * A request body (FCGI_STDIN or FCGI_DATA): bytes or text sent at once, or chunks read as the connection
 * accepts them (a Node Readable is an AsyncIterable). Strings are sent as UTF-8. @see §5.3
 */
export type BodyInit = string | Uint8Array | Iterable<Uint8Array | string> | AsyncIterable<Uint8Array | string>;

/** One request. @see §5.1 §6 */
export interface RequestOptions {
  /** The role (default `responder`); a number sends that role value as is, known or not. @see §5.1 */
  readonly role?: RoleName | number;
  /** Sets FCGI_KEEP_CONN: without it the application closes the connection after the request. @see §5.1 */
  readonly keepConn?: boolean;
  /** FCGI_PARAMS pairs, in order. @see §5.2 */
  readonly params?: ParamsInit;
  /** FCGI_STDIN; an empty stream is always sent when omitted. @see §5.3 */
  readonly stdin?: BodyInit;
  /** FCGI_DATA, after stdin; an empty stream is sent for the Filter role when omitted. @see §6.4 */
  readonly data?: BodyInit;
  /** Aborting sends FCGI_ABORT_REQUEST; the request then settles when FCGI_END_REQUEST comes back. @see §5.4 */
  readonly signal?: AbortSignal;
  /** Overrides the connection's `timeoutMs` for this request. */
  readonly timeoutMs?: number;
  /** Overrides `maxResponseBytes` for this (buffered) request. */
  readonly maxResponseBytes?: number;
  /** How this request's records are cut and padded; overrides the connection's `maxRecordContent` and `padding`. @see §3.3 */
  readonly records?: RecordShape;
}

/**
 * Padding of the records we send: to 8-byte boundaries (`align`), none, a fixed 0..255 bytes, or a list
 * of counts used in turn, record after record (each clamped to 0..255). @see §3.3
 */
export type RecordPadding = 'align' | 'none' | number | readonly number[];

/** How records are cut and padded, for tests of a peer's framing. @see §3.3 */
export interface RecordShape {
  /** Largest content per record, 1..65535. */
  readonly maxContent?: number;
  readonly padding?: RecordPadding;
}

/** How a request ended: the application's FCGI_END_REQUEST, plus what the client counted. @see §5.5 */
export interface RequestEnd {
  /** The request id the request used on its connection. */
  readonly requestId: number;
  readonly appStatus: number;
  readonly protocolStatus: number;
  readonly stdoutBytes: number;
  readonly stderrBytes: number;
  /**
   * Deviations the client tolerated, one line each (e.g. FCGI_END_REQUEST before the empty FCGI_STDOUT
   * record). Judging them is the validator's job; they are here so nothing is silently dropped.
   */
  readonly anomalies: readonly string[];
}

/** A buffered response. */
export interface RequestResult extends RequestEnd {
  readonly stdout: Buffer;
  readonly stderr: Buffer;
  /** stdout parsed as a CGI response, or undefined when it is not one (see `cgiError`). @see §6.1 */
  readonly cgi: CgiResponse | undefined;
  readonly cgiError: CgiParseError | undefined;
}

/**
 * A response that streams as it arrives. Read both `stdout` and `stderr` (or `resume()` them): while one
 * is full the connection stops reading, which holds up every request on that connection (FastCGI has no
 * per-request flow control). On failure both are destroyed without an error event and `ended` rejects.
 */
export interface ResponseStream {
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** The request id, once a connection has taken the request. */
  readonly requestId: Promise<number>;
  /** Resolves on FCGI_END_REQUEST with FCGI_REQUEST_COMPLETE; rejects with a ClientError otherwise. */
  readonly ended: Promise<RequestEnd>;
  /** Same as aborting the request's signal. */
  abort(reason?: unknown): void;
}

/** What the application said to FCGI_GET_VALUES, or to any management record. @see §4.1 §4.2 */
export type ManagementReply =
  | { readonly kind: 'values'; readonly values: ReadonlyMap<string, string>; readonly record: DecodedRecord }
  | { readonly kind: 'unknown-type'; readonly type: number; readonly record: DecodedRecord };

/** Traffic as it happens, for `--raw` views and custom transcripts. `atMs` counts from `clockOrigin`. */
export type TrafficEvent =
  | { readonly dir: 'sent'; readonly conn: number; readonly atMs: number; readonly bytes: Uint8Array }
  | { readonly dir: 'received'; readonly conn: number; readonly atMs: number; readonly record: DecodedRecord }
  | { readonly dir: 'closed'; readonly conn: number; readonly atMs: number; readonly how: CloseKind; readonly detail: string };

/** Options of one connection. */
export interface ConnectionOptions {
  /** Requests in flight at once on this connection (default 1); more wait their turn. */
  readonly maxConcurrent?: number;
  /** Bound on stdout + stderr held for one buffered request (default 64 MiB); past it: E_TOO_LARGE. */
  readonly maxResponseBytes?: number;
  /**
   * A request fails with E_TIMEOUT when the application sends nothing for it, and reads none of its input,
   * for this long (default 30 000 ms; 0 waits forever). Also bounds management queries.
   */
  readonly timeoutMs?: number;
  /** How long to wait for FCGI_END_REQUEST after FCGI_ABORT_REQUEST (default 5 000 ms). */
  readonly abortTimeoutMs?: number;
  /** Padding of the records we send: to 8-byte boundaries as §3.3 recommends (default), none, or see `RecordPadding`. */
  readonly padding?: RecordPadding;
  /** Largest content per record we send, 1..65535 (default 65535). */
  readonly maxRecordContent?: number;
  /** Bound on a CGI header block when parsing stdout (default 64 KiB). */
  readonly maxCgiHeaderBytes?: number;
  /** Keep a transcript of the bytes: true for 256 KiB, or a byte cap. */
  readonly transcript?: boolean | number;
  /** Called for every record received, every write, and the close. Must not throw. */
  readonly onTraffic?: (event: TrafficEvent) => void;
  /** `performance.now()` value that `atMs` counts from (default: when the connection object was made). */
  readonly clockOrigin?: number;
  /** Number of this connection in traffic events (default 0). */
  readonly index?: number;
}
