/**
 * Typed bodies of the fixed-size records. Pure. Decoders are lenient: they read what is there and report
 * the length, so a validator (not the decoder) decides whether a body of the wrong length is an error.
 * @see §5.1 FCGI_BeginRequestBody, §5.5 FCGI_EndRequestBody, §4.2 FCGI_UnknownTypeBody
 */
import { FCGI_FIXED_BODY_LEN } from '../../spec/constants.ts';

/** @see §5.1 */
export interface BeginRequestBody {
  readonly role: number;
  readonly flags: number;
  /** The five reserved bytes; zeros by default. */
  readonly reserved?: Uint8Array;
}
/** @see §5.5 */
export interface EndRequestBody {
  /** 32-bit, unsigned. */
  readonly appStatus: number;
  readonly protocolStatus: number;
  /** The three reserved bytes; zeros by default. */
  readonly reserved?: Uint8Array;
}
/** @see §4.2 */
export interface UnknownTypeBody {
  readonly type: number;
  /** The seven reserved bytes; zeros by default. */
  readonly reserved?: Uint8Array;
}

function fixed(reserved: Uint8Array | undefined, at: number): Uint8Array {
  const out = new Uint8Array(FCGI_FIXED_BODY_LEN);
  if (reserved) out.set(reserved.subarray(0, FCGI_FIXED_BODY_LEN - at), at);
  return out;
}

export function encodeBeginRequestBody(body: BeginRequestBody): Uint8Array {
  const out = fixed(body.reserved, 3);
  out[0] = (body.role >>> 8) & 0xff;
  out[1] = body.role & 0xff;
  out[2] = body.flags & 0xff;
  return out;
}

export function encodeEndRequestBody(body: EndRequestBody): Uint8Array {
  const out = fixed(body.reserved, 5);
  new DataView(out.buffer).setUint32(0, body.appStatus >>> 0);
  out[4] = body.protocolStatus & 0xff;
  return out;
}

export function encodeUnknownTypeBody(body: UnknownTypeBody): Uint8Array {
  const out = fixed(body.reserved, 1);
  out[0] = body.type & 0xff;
  return out;
}

/** A decoded fixed body: missing bytes read as 0; `length` is the content length actually received. */
export type Lenient<T> = Required<T> & { readonly length: number };

function padded(content: Uint8Array): Uint8Array {
  if (content.length >= FCGI_FIXED_BODY_LEN) return content;
  const out = new Uint8Array(FCGI_FIXED_BODY_LEN);
  out.set(content);
  return out;
}

export function decodeBeginRequestBody(content: Uint8Array): Lenient<BeginRequestBody> {
  const b = padded(content);
  return { role: (b[0]! << 8) | b[1]!, flags: b[2]!, reserved: b.slice(3, 8), length: content.length };
}

export function decodeEndRequestBody(content: Uint8Array): Lenient<EndRequestBody> {
  const b = padded(content);
  const appStatus = ((b[0]! << 24) >>> 0) + (b[1]! << 16) + (b[2]! << 8) + b[3]!;
  return { appStatus, protocolStatus: b[4]!, reserved: b.slice(5, 8), length: content.length };
}

export function decodeUnknownTypeBody(content: Uint8Array): Lenient<UnknownTypeBody> {
  const b = padded(content);
  return { type: b[0]!, reserved: b.slice(1, 8), length: content.length };
}
