/**
 * The fcgispec reference FastCGI client: the web-server side of FastCGI 1.0, as a library.
 *
 * - `Client`: a pool to one application (TCP, Unix socket, or any Duplex), with keep-conn reuse, a connection
 *   limit, per-connection request limits, and multiplexing when the application claims FCGI_MPXS_CONNS.
 * - `ClientConnection`: one connection, many requests on it, each with the smallest free request id.
 * - `RawConnection`: records and bytes exactly as you build them, every reply as a timed event (for tests of
 *   what the client itself would refuse to send).
 * - `parseCgiResponse`: stdout as a CGI response (status, ordered headers, body).
 *
 * Every failure is a `ClientError` with a literal `code`: match on it. A request the application rejects
 * (protocolStatus other than FCGI_REQUEST_COMPLETE) rejects with `E_REJECTED`, whose `result` holds the
 * whole response; nothing the application sends can throw out of an event handler or grow memory unbounded.
 *
 * @example
 * import { Client } from 'fcgispec/reference/client/index.ts';
 * const client = new Client('unix:/run/php-fpm.sock', { maxConnections: 4 });
 * const res = await client.request({ params: { SCRIPT_FILENAME: '/srv/index.php', REQUEST_METHOD: 'GET' } });
 * res.cgi?.status; // 200
 * await client.close();
 * @see FastCGI Specification §3 §4 §5 §6
 */

/** A pooled client to one application. @see §3.5 */
export { Client, type ClientOptions, type Capabilities, type ConnectTarget } from './pool.ts';
/** One connection, multiplexed; `ClientConnection.connect(target)` or `new ClientConnection(duplex)`. @see §3.3 */
export { ClientConnection, openTransport, roles, type ConnectOptions } from './connection.ts';
/** The error type and its codes. */
export { ClientError, type ClientErrorCode, type ClientErrorDetails } from './errors.ts';
/** Request and response shapes. */
export type {
  BodyInit,
  ConnectionOptions,
  ManagementReply,
  RequestEnd,
  RequestOptions,
  RequestResult,
  ResponseStream,
  TrafficEvent,
} from './types.ts';
/** Raw mode: bytes and records as built, replies as timed events. */
export {
  RawConnection,
  defaultRawConnectionLimits,
  type CloseKind,
  type PeerEvent,
  type RawConnectionLimits,
  type TranscriptEntry,
} from './raw-connection.ts';
/** CGI response parsing. @see §6.1 */
export {
  parseCgiResponse,
  parseCgiHead,
  formatCgiResponse,
  type CgiResponse,
  type CgiHead,
  type CgiParseError,
  type CgiParseResult,
} from '../cgi.ts';
