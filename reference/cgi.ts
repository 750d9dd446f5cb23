/**
 * CGI responses, as FastCGI Responders, Authorizers and Filters write them on FCGI_STDOUT: a block of header
 * lines, an empty line, then the body. Pure: no I/O.
 *
 * "Role protocols do not support the non-parsed header feature of CGI. FastCGI applications set response
 * status using the Status and Location CGI headers." (§6.1; the header syntax is CGI/1.1's, RFC 3875 §6.)
 * @see §6.1
 */

/** A parsed CGI response. `headers` keeps every line in order, `Status:` and `Location:` included. */
export interface CgiResponse {
  /** From `Status:`, else 302 when `Location:` is an absolute URI (a client redirect), else 200. */
  readonly status: number;
  /** The reason phrase of `Status:` (`Not Found` in `Status: 404 Not Found`), or ''. */
  readonly reason: string;
  /** Header lines as (name, value) pairs, in the order sent; names keep their case, values are trimmed. */
  readonly headers: readonly (readonly [string, string])[];
  /** Everything after the empty line; a view of the input, not a copy. */
  readonly body: Uint8Array;
  /** Bytes of the header block, its closing empty line included: the body starts here. */
  readonly headerLength: number;
}

/** The header block alone, for responses that arrive in pieces. */
export type CgiHead = Omit<CgiResponse, 'body'>;

/** Why stdout is not a CGI response. `offset` is where in the bytes the problem lies. */
export interface CgiParseError {
  readonly kind: 'empty' | 'no-header-end' | 'header-too-large' | 'no-headers' | 'bad-header-line' | 'bad-status';
  readonly message: string;
  readonly offset: number;
}

export type CgiParseResult =
  | { readonly kind: 'response'; readonly response: CgiResponse }
  | { readonly kind: 'error'; readonly error: CgiParseError };

export type CgiHeadResult =
  | { readonly kind: 'head'; readonly head: CgiHead }
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'error'; readonly error: CgiParseError };

export interface CgiParseOptions {
  /** Largest header block accepted, its closing empty line included (default 64 KiB). */
  readonly maxHeaderBytes?: number;
}

/** Default bound on a header block. */
export const DEFAULT_MAX_CGI_HEADER_BYTES = 64 * 1024;

const LF = 0x0a;
const CR = 0x0d;
// RFC 9110 token characters, the only ones a field name may hold.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const STATUS = /^(\d{3})(?:[ \t]+(.*))?$/;
// RFC 3986 scheme: an absolute URI, so a client redirect (RFC 3875 §6.2.3), not a local one.
const ABSOLUTE_URI = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/**
 * Parses the header block at the front of `bytes`. Lines may end in CRLF or LF. Returns `incomplete` while
 * the empty line has not arrived and the bound is not reached, unless `final` says no more bytes will come.
 */
export function parseCgiHead(bytes: Uint8Array, options: CgiParseOptions & { readonly final?: boolean } = {}): CgiHeadResult {
  return parseHead(bytes, options.maxHeaderBytes ?? DEFAULT_MAX_CGI_HEADER_BYTES, options.final ?? false);
}

function parseHead(bytes: Uint8Array, max: number, final: boolean): CgiHeadResult {
  if (bytes.length === 0) {
    return final ? fail('empty', 'stdout is empty: a CGI response needs at least one header line', 0) : { kind: 'incomplete' };
  }
  if (bytes[0] === LF || (bytes[0] === CR && bytes[1] === LF)) {
    return fail('no-headers', 'stdout starts with an empty line: a CGI response needs at least one header line', 0);
  }
  const limit = Math.min(bytes.length, max);
  let from = 0;
  for (;;) {
    const lf = bytes.indexOf(LF, from);
    if (lf < 0 || lf >= limit) break;
    const next = bytes[lf + 1];
    let end = -1;
    if (next === LF) end = lf + 2;
    else if (next === CR && bytes[lf + 2] === LF) end = lf + 3;
    else if (next === undefined || (next === CR && lf + 2 >= bytes.length)) break; // the rest may yet come
    if (end >= 0) {
      if (end > max) break;
      const blockEnd = bytes[lf - 1] === CR ? lf - 1 : lf;
      return parseBlock(bytes, blockEnd, end);
    }
    from = lf + 1;
  }
  if (bytes.length >= max) {
    return fail('header-too-large', `no end of the header block within ${max} bytes`, max);
  }
  if (final) {
    return fail('no-header-end', `no empty line ends the header block (${bytes.length} bytes of stdout)`, bytes.length);
  }
  return { kind: 'incomplete' };
}

/** Parses a complete stdout as a CGI response. @see §6.1 */
export function parseCgiResponse(bytes: Uint8Array, options: CgiParseOptions = {}): CgiParseResult {
  const head = parseHead(bytes, options.maxHeaderBytes ?? DEFAULT_MAX_CGI_HEADER_BYTES, true);
  if (head.kind === 'error') return head;
  // `final` rules out `incomplete`.
  const h = (head as Extract<CgiHeadResult, { kind: 'head' }>).head;
  // Built field by field: V8 is slow at a spread followed by more properties.
  const response: CgiResponse = { status: h.status, reason: h.reason, headers: h.headers, body: bytes.subarray(h.headerLength), headerLength: h.headerLength };
  return { kind: 'response', response };
}

/** What `formatCgiResponse` writes. */
export interface CgiResponseInit {
  /** Written as the first line, `Status: 404 Not Found`, when given. */
  readonly status?: number;
  readonly reason?: string;
  readonly headers?: readonly (readonly [string, string])[];
  readonly body?: Uint8Array | string;
}

/**
 * Writes a CGI response with CRLF line ends: `Status:` (if given), the headers, an empty line, the body. With
 * neither status nor headers it writes `Content-Type: text/plain`, since a CGI response needs one header line.
 */
export function formatCgiResponse(init: CgiResponseInit): Buffer {
  let head = '';
  if (init.status !== undefined) head += `Status: ${init.status}${init.reason ? ` ${init.reason}` : ''}\r\n`;
  for (const [name, value] of init.headers ?? []) head += `${name}: ${value}\r\n`;
  if (head === '') head = 'Content-Type: text/plain\r\n';
  const body = init.body ?? '';
  const headBytes = Buffer.from(`${head}\r\n`, 'latin1');
  return Buffer.concat([headBytes, typeof body === 'string' ? Buffer.from(body) : body]);
}

function fail(kind: CgiParseError['kind'], message: string, offset: number): { readonly kind: 'error'; readonly error: CgiParseError } {
  return { kind: 'error', error: { kind, message, offset } };
}

// Parses header lines in bytes[0, blockEnd); the body starts at `headerLength`.
function parseBlock(bytes: Uint8Array, blockEnd: number, headerLength: number): CgiHeadResult {
  // Header bytes are octets, not UTF-8: latin1 maps each byte to one char, so offsets stay byte offsets.
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, blockEnd).toString('latin1');
  const headers: (readonly [string, string])[] = [];
  let status: number | undefined;
  let reason = '';
  let location: string | undefined;
  let at = 0;
  while (at <= text.length) {
    let nl = text.indexOf('\n', at);
    if (nl < 0) nl = text.length;
    const line = text.charCodeAt(nl - 1) === CR && nl > at ? text.slice(at, nl - 1) : text.slice(at, nl);
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (!TOKEN.test(name)) {
      return fail('bad-header-line', `header line is not "Name: value": ${JSON.stringify(line.slice(0, 80))}`, at);
    }
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    headers.push([name, value]);
    const lower = name.toLowerCase();
    if (lower === 'status' && status === undefined) {
      const m = STATUS.exec(value);
      if (!m) return fail('bad-status', `Status header is not "NNN reason": ${JSON.stringify(value.slice(0, 80))}`, at);
      status = Number(m[1]);
      reason = m[2] ?? '';
    } else if (lower === 'location' && location === undefined) {
      location = value;
    }
    at = nl + 1;
  }
  const derived = status ?? (location !== undefined && ABSOLUTE_URI.test(location) ? 302 : 200);
  return { kind: 'head', head: { status: derived, reason, headers, headerLength } };
}
