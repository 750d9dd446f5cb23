/**
 * Encoding for the client's hot path: records are framed into as few buffers as possible (small content is
 * copied into one allocation per batch, large content is written as a view), so a batch goes out as one
 * corked write without copying the caller's bodies.
 * @see §3.3 §3.4
 */
import { FCGI_HEADER_LEN, FCGI_MAX_CONTENT_LENGTH, FCGI_VERSION_1 } from '../../spec/constants.ts';
import type { ParamsInit } from '../codec/name-value.ts';
import type { RecordPadding } from './types.ts';

// Content up to this size is copied into the batch buffer; larger content is referenced.
const COPY_LIMIT = 16 * 1024;

interface Segment {
  readonly type: number;
  readonly requestId: number;
  readonly content: Uint8Array;
  readonly padding: number;
}

/** Padding bytes of the next record, given its content length. */
export type Padder = (contentLength: number) => number;

const alignPadding: Padder = (length) => (8 - (length % 8)) % 8;
const noPadding: Padder = () => 0;
const clampPadding = (n: number): number => (Number.isFinite(n) ? Math.max(0, Math.min(255, Math.floor(n))) : 0);

/** The padding policy as a function; a list is used in turn, so keep one padder per request. @see §3.3 */
export function padder(padding: RecordPadding = 'align'): Padder {
  if (padding === 'align') return alignPadding;
  if (padding === 'none') return noPadding;
  if (typeof padding === 'number') {
    const n = clampPadding(padding);
    return () => n;
  }
  if (!Array.isArray(padding)) return alignPadding; // not a policy a typed caller can pass: the default
  const list = (padding as readonly number[]).map(clampPadding);
  if (list.length === 0) return noPadding;
  let next = 0;
  return () => list[next++ % list.length]!;
}

/** Records to write together. */
export class RecordBatch {
  readonly #pad: Padder;
  readonly #maxContent: number;
  readonly #segments: Segment[] = [];

  /** `padding`: true aligns to 8 bytes, false pads nothing. */
  constructor(padding: boolean | Padder = true, maxContent = FCGI_MAX_CONTENT_LENGTH) {
    this.#pad = padding === true ? alignPadding : padding === false ? noPadding : padding;
    this.#maxContent = Number.isFinite(maxContent) ? Math.max(1, Math.min(FCGI_MAX_CONTENT_LENGTH, Math.floor(maxContent))) : FCGI_MAX_CONTENT_LENGTH;
  }

  get empty(): boolean {
    return this.#segments.length === 0;
  }

  /** One record; `content` must fit in 65535 bytes. */
  record(type: number, requestId: number, content: Uint8Array): this {
    this.#segments.push({ type, requestId, content, padding: this.#pad(content.length) });
    return this;
  }

  /** A stream's bytes cut into records, then (with `terminate`) the empty record that ends it. @see §3.3 */
  stream(type: number, requestId: number, bytes: Uint8Array, terminate: boolean): this {
    const max = this.#maxContent;
    for (let at = 0; at < bytes.length; at += max) this.record(type, requestId, bytes.subarray(at, Math.min(bytes.length, at + max)));
    if (terminate) this.record(type, requestId, EMPTY);
    return this;
  }

  /** The bytes to write, in order: slices of one fresh buffer, interleaved with views of large content. */
  parts(): Uint8Array[] {
    let size = 0;
    for (const s of this.#segments) size += FCGI_HEADER_LEN + s.padding + (s.content.length <= COPY_LIMIT ? s.content.length : 0);
    const buf = Buffer.allocUnsafe(size);
    const out: Uint8Array[] = [];
    let at = 0;
    let regionStart = 0;
    for (const s of this.#segments) {
      const len = s.content.length;
      buf[at] = FCGI_VERSION_1;
      buf[at + 1] = s.type;
      buf[at + 2] = s.requestId >>> 8;
      buf[at + 3] = s.requestId & 0xff;
      buf[at + 4] = len >>> 8;
      buf[at + 5] = len & 0xff;
      buf[at + 6] = s.padding;
      buf[at + 7] = 0;
      at += FCGI_HEADER_LEN;
      if (len <= COPY_LIMIT) {
        buf.set(s.content, at);
        at += len;
      } else {
        out.push(buf.subarray(regionStart, at), s.content);
        regionStart = at;
      }
      // Padding is "ignored" by the receiver, but it must not carry stale memory.
      if (s.padding > 0) buf.fill(0, at, at + s.padding);
      at += s.padding;
    }
    if (at > regionStart) out.push(buf.subarray(regionStart, at));
    return out;
  }
}

const EMPTY = new Uint8Array(0);

const NOT_ASCII = /[^\x00-\x7f]/;

/** Params as the content of an FCGI_PARAMS stream, in one allocation: lengths then name then value. @see §3.4 */
export function encodeParams(params: ParamsInit | undefined): Uint8Array {
  if (params === undefined) return EMPTY;
  if (!(Symbol.iterator in params)) {
    const fast = encodeAsciiRecord(params as Readonly<Record<string, string>>);
    if (fast) return fast;
  }
  const entries: Iterable<readonly [string | Uint8Array, string | Uint8Array]> =
    Symbol.iterator in params ? (params as Iterable<readonly [string | Uint8Array, string | Uint8Array]>) : Object.entries(params);
  const names: (string | Uint8Array)[] = [];
  const values: (string | Uint8Array)[] = [];
  const lengths: number[] = [];
  let size = 0;
  for (const [name, value] of entries) {
    const nl = typeof name === 'string' ? Buffer.byteLength(name) : name.length;
    const vl = typeof value === 'string' ? Buffer.byteLength(value) : value.length;
    names.push(name);
    values.push(value);
    lengths.push(nl, vl);
    size += (nl > 127 ? 4 : 1) + (vl > 127 ? 4 : 1) + nl + vl;
  }
  const buf = Buffer.allocUnsafe(size);
  let at = 0;
  for (let i = 0; i < names.length; i++) {
    const nl = lengths[2 * i]!;
    const vl = lengths[2 * i + 1]!;
    at = writeLength(buf, at, nl);
    at = writeLength(buf, at, vl);
    at = writeText(buf, at, names[i]!);
    at = writeText(buf, at, values[i]!);
  }
  return buf;
}

// The common case, a plain object of ASCII strings: char counts are byte counts, so the whole stream is built
// as one latin1 string (length bytes included) and encoded by one native call. Undefined for anything else.
function encodeAsciiRecord(params: Readonly<Record<string, string>>): Uint8Array | undefined {
  let s = '';
  for (const name in params) {
    const value = params[name];
    if (typeof value !== 'string' || NOT_ASCII.test(name) || NOT_ASCII.test(value)) return undefined;
    s += lengthChars(name.length) + lengthChars(value.length) + name + value;
  }
  return s.length === 0 ? EMPTY : Buffer.from(s, 'latin1');
}

function lengthChars(n: number): string {
  if (n <= 127) return String.fromCharCode(n);
  return String.fromCharCode(((n >>> 24) & 0x7f) | 0x80, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

function writeLength(buf: Buffer, at: number, length: number): number {
  if (length <= 127) {
    buf[at] = length;
    return at + 1;
  }
  buf.writeUInt32BE((length | 0x80000000) >>> 0, at);
  return at + 4;
}

function writeText(buf: Buffer, at: number, value: string | Uint8Array): number {
  if (typeof value === 'string') return at + buf.write(value, at, 'utf8');
  buf.set(value, at);
  return at + value.length;
}
