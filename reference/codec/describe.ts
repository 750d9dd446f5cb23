/**
 * One-line human descriptions of records, for transcripts and reports. Pure.
 * @see §3.3 §4 §5
 */
import {
  FCGI_ABORT_REQUEST,
  FCGI_AUTHORIZER,
  FCGI_BEGIN_REQUEST,
  FCGI_END_REQUEST,
  FCGI_FILTER,
  FCGI_GET_VALUES,
  FCGI_GET_VALUES_RESULT,
  FCGI_KEEP_CONN,
  FCGI_PARAMS,
  FCGI_RESPONDER,
  FCGI_UNKNOWN_TYPE,
  FCGI_VERSION_1,
  protocolStatusName,
  recordTypeName,
} from '../../spec/constants.ts';
import { decodeBeginRequestBody, decodeEndRequestBody, decodeUnknownTypeBody } from './bodies.ts';
import { NameValueParser } from './name-value.ts';
import type { WireRecord } from './record.ts';
import { streamOfType } from './stream-assembler.ts';

/** Characters of a body summary before it is cut with `…`. */
export const DESCRIBE_MAX_CHARS = 120;

const ROLE_CONSTANTS: Readonly<Record<number, string | undefined>> = {
  [FCGI_RESPONDER]: 'FCGI_RESPONDER',
  [FCGI_AUTHORIZER]: 'FCGI_AUTHORIZER',
  [FCGI_FILTER]: 'FCGI_FILTER',
};

/**
 * Bytes as readable text: printable ASCII as is, `\r \n \t \\ \"` escaped, anything else `\xNN`. Stops after
 * about `max` characters and appends `…`.
 */
export function escapeBytes(bytes: Uint8Array, max = DESCRIBE_MAX_CHARS): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) {
    if (s.length >= max) return `${s}…`;
    const b = bytes[i]!;
    if (b === 0x5c) s += '\\\\';
    else if (b === 0x22) s += '\\"';
    else if (b === 0x0a) s += '\\n';
    else if (b === 0x0d) s += '\\r';
    else if (b === 0x09) s += '\\t';
    else if (b >= 0x20 && b < 0x7f) s += String.fromCharCode(b);
    else s += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return s;
}

function cut(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

function hexOf(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

// Pairs as `NAME=value NAME2=value2`. A record may hold part of a pair (streams are cut anywhere, and a record
// may start mid-pair): what does not parse is shown as a count of bytes, so the line is a best effort.
function describePairs(content: Uint8Array): string {
  const parser = new NameValueParser({ maxPairLength: content.length, maxTotalBytes: content.length });
  const pairs = parser.push(content);
  let text = '';
  let shown = 0;
  for (const p of pairs) {
    if (text.length >= DESCRIBE_MAX_CHARS) break;
    text += `${text.length > 0 ? ' ' : ''}${escapeBytes(p.name)}=${escapeBytes(p.value)}`;
    shown++;
  }
  text = cut(text, DESCRIBE_MAX_CHARS);
  if (shown < pairs.length && !text.endsWith('…')) text += ' …';
  const left = parser.error ? content.length - parser.error.offset : parser.heldBytes;
  const rest = left > 0 ? ` +${left} byte(s) not a whole pair` : '';
  return `${pairs.length} pair(s)${text.length > 0 ? `: ${text}` : ''}${rest}`;
}

function flagsText(flags: number): string {
  const names: string[] = [];
  if (flags & FCGI_KEEP_CONN) names.push('FCGI_KEEP_CONN');
  const rest = flags & ~FCGI_KEEP_CONN;
  if (rest !== 0) names.push(`0x${rest.toString(16).padStart(2, '0')}`);
  return names.length > 0 ? names.join('|') : '0';
}

function bodySummary(record: WireRecord): string {
  const content = record.content;
  switch (record.type) {
    case FCGI_BEGIN_REQUEST: {
      const b = decodeBeginRequestBody(content);
      const role = ROLE_CONSTANTS[b.role] ?? `role ${b.role}`;
      const reserved = b.reserved.some((x) => x !== 0) ? ` bodyReserved=${hexOf(b.reserved)}` : '';
      return `${role} flags=${flagsText(b.flags)}${reserved}`;
    }
    case FCGI_END_REQUEST: {
      const b = decodeEndRequestBody(content);
      const reserved = b.reserved.some((x) => x !== 0) ? ` bodyReserved=${hexOf(b.reserved)}` : '';
      return `appStatus=${b.appStatus} ${protocolStatusName(b.protocolStatus)}${reserved}`;
    }
    case FCGI_UNKNOWN_TYPE: {
      const b = decodeUnknownTypeBody(content);
      const reserved = b.reserved.some((x) => x !== 0) ? ` bodyReserved=${hexOf(b.reserved)}` : '';
      return `type=${recordTypeName(b.type).replace('type ', '')}${reserved}`;
    }
    case FCGI_ABORT_REQUEST:
      return content.length > 0 ? `"${escapeBytes(content)}"` : '';
    case FCGI_PARAMS:
    case FCGI_GET_VALUES:
    case FCGI_GET_VALUES_RESULT:
      return content.length === 0 ? 'end of stream' : describePairs(content);
    default:
      if (content.length === 0) return streamOfType[record.type] !== undefined ? 'end of stream' : '';
      return `"${escapeBytes(content)}"`;
  }
}


/**
 * One line describing a record: type name, request id, lengths, a body summary; the version and the header's
 * reserved byte only when they are not the usual 1 and 0. Never throws, whatever the record holds.
 * @example `FCGI_BEGIN_REQUEST id=1 len=8 pad=0 FCGI_RESPONDER flags=FCGI_KEEP_CONN`
 * @see §3.3
 */
export function describeRecord(record: WireRecord): string {
  const head = [recordTypeName(record.type), `id=${record.requestId}`, `len=${record.content.length}`, `pad=${record.paddingLength}`];
  if (record.version !== FCGI_VERSION_1) head.push(`version=${record.version}`);
  if (record.reserved !== undefined && record.reserved !== 0) head.push(`reserved=0x${record.reserved.toString(16).padStart(2, '0')}`);
  const summary = bodySummary(record);
  return summary.length > 0 ? `${head.join(' ')} ${summary}` : head.join(' ');
}
