/**
 * The client's one error type. Match on `code`, never on the message.
 */
import type { RequestEnd, RequestResult } from './types.ts';

/**
 * - `E_CONNECT`: the transport connection could not be opened (refused, unreachable, connect timeout).
 * - `E_CLOSED`: the connection closed or reset before the request's FCGI_END_REQUEST, or the client was closed.
 * - `E_PROTOCOL`: the application sent something the protocol does not allow; `hex` holds the offending bytes.
 * - `E_TIMEOUT`: the application sent nothing for the request within `timeoutMs`, or did not answer an
 *   FCGI_ABORT_REQUEST within `abortTimeoutMs`, or a management query went unanswered.
 * - `E_ABORTED`: the caller's AbortSignal fired; `end` holds the application's FCGI_END_REQUEST when it sent one.
 * - `E_REJECTED`: FCGI_END_REQUEST came with a protocolStatus other than FCGI_REQUEST_COMPLETE (§5.5);
 *   `protocolStatus`, `appStatus`, `end` and (buffered API) `result` say what came back.
 * - `E_UNKNOWN_TYPE`: the application answered a management record with FCGI_UNKNOWN_TYPE (§4.2); see `unknownType`.
 * - `E_TOO_LARGE`: the buffered response passed `maxResponseBytes`.
 * - `E_INPUT`: reading the caller's stdin or data source failed.
 * - `E_USAGE`: the call itself is invalid (a GET_VALUES query over 65535 bytes, a bad option value).
 */
export type ClientErrorCode =
  | 'E_CONNECT'
  | 'E_CLOSED'
  | 'E_PROTOCOL'
  | 'E_TIMEOUT'
  | 'E_ABORTED'
  | 'E_REJECTED'
  | 'E_UNKNOWN_TYPE'
  | 'E_TOO_LARGE'
  | 'E_INPUT'
  | 'E_USAGE';

/** Extra facts an error may carry. */
export interface ClientErrorDetails {
  readonly requestId?: number;
  readonly hex?: string;
  readonly protocolStatus?: number;
  readonly appStatus?: number;
  readonly unknownType?: number;
  readonly end?: RequestEnd;
  readonly result?: RequestResult;
}

const MARK = Symbol.for('fcgispec.ClientError');

/** A failed client operation. @see ClientErrorCode */
export class ClientError extends Error {
  override readonly name = 'ClientError';
  readonly code: ClientErrorCode;
  /** The request the error belongs to, when it belongs to one. */
  readonly requestId: number | undefined;
  /** The offending bytes as lowercase hex (E_PROTOCOL, and E_CLOSED after a record cut short), capped. */
  readonly hex: string | undefined;
  readonly protocolStatus: number | undefined;
  readonly appStatus: number | undefined;
  /** The type byte of an FCGI_UNKNOWN_TYPE reply (E_UNKNOWN_TYPE). */
  readonly unknownType: number | undefined;
  /** How the request ended, when the application sent FCGI_END_REQUEST (E_REJECTED, E_ABORTED). */
  readonly end: RequestEnd | undefined;
  /** The whole buffered response (E_REJECTED and E_ABORTED from `request()`). */
  readonly result: RequestResult | undefined;

  constructor(code: ClientErrorCode, message: string, details: ClientErrorDetails = {}, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.requestId = details.requestId;
    this.hex = details.hex;
    this.protocolStatus = details.protocolStatus ?? details.end?.protocolStatus;
    this.appStatus = details.appStatus ?? details.end?.appStatus;
    this.unknownType = details.unknownType;
    this.end = details.end ?? details.result;
    this.result = details.result;
    Object.defineProperty(this, MARK, { value: true });
  }

  /** True for a ClientError (from any copy of this module), optionally with the given code. */
  static is(err: unknown, code?: ClientErrorCode): err is ClientError {
    return typeof err === 'object' && err !== null && MARK in err && (code === undefined || (err as { code?: unknown }).code === code);
  }
}

/** Bytes as lowercase hex, at most `max` bytes of them, with a note of how many were left out. */
export function hexOf(bytes: Uint8Array, max = 256): string {
  const shown = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, max)).toString('hex');
  return bytes.length > max ? `${shown}…(+${bytes.length - max} bytes)` : shown;
}
