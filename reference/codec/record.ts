/**
 * Record framing: bytes ⇄ records. Pure: no I/O, no timers, no clock.
 *
 * The codec frames bytes and never judges them, so that scenarios can build and observe the records the
 * spec forbids. Judging is `validate.ts`.
 * @see FastCGI Specification §3.3
 */
import { FCGI_HEADER_LEN, FCGI_MAX_CONTENT_LENGTH, FCGI_VERSION_1 } from '../../spec/constants.ts';

/** A record exactly as on the wire. `version` and `type` are plain numbers on purpose. @see §3.3 */
export interface WireRecord {
  readonly version: number;
  readonly type: number;
  readonly requestId: number;
  readonly content: Uint8Array;
  readonly paddingLength: number;
  /** The header's `reserved` byte; 0 unless a scenario says otherwise. */
  readonly reserved?: number;
}

/** A record produced by a decoder, with where it sat in the byte stream. */
export interface DecodedRecord extends WireRecord {
  readonly reserved: number;
  /** The padding bytes as received (a view). */
  readonly padding: Uint8Array;
  /** Offset of the header's first byte in the stream the decoder was fed. */
  readonly offset: number;
}

/** The 8-byte header, as decoded. */
export interface RecordHeader {
  readonly version: number;
  readonly type: number;
  readonly requestId: number;
  readonly contentLength: number;
  readonly paddingLength: number;
  readonly reserved: number;
}

/** Options that let an encoder lie or decorate, to build records the spec forbids. */
export interface EncodeOptions {
  /** Write this contentLength instead of `content.length` (the content bytes are still written as given). */
  readonly contentLength?: number;
  /** Byte used to fill the padding; 0 by default. Any value is legal on the wire (§3.3). */
  readonly paddingByte?: number;
}

/** A record to encode: `version` defaults to FCGI_VERSION_1, `paddingLength` and `reserved` to 0. */
export interface RecordInit {
  readonly version?: number;
  readonly type: number;
  readonly requestId: number;
  readonly content?: Uint8Array;
  readonly paddingLength?: number;
  readonly reserved?: number;
}

const EMPTY = new Uint8Array(0);

const NodeBuffer = (globalThis as {
  Buffer?: { isBuffer(x: unknown): boolean; allocUnsafe(n: number): Uint8Array; allocUnsafeSlow(n: number): Uint8Array };
}).Buffer;

// Below this size zero-filled memory costs nothing measurable (and small typed arrays are cheaper to make).
const UNFILLED_MIN = 64 * 1024;

// A plain Uint8Array of `length` bytes (its own ArrayBuffer, offset 0, like `new Uint8Array(length)`) whose
// bytes are NOT initialised under Node: only for callers that write every byte before handing it out.
function allocateUnfilled(length: number): Uint8Array {
  if (NodeBuffer === undefined || length < UNFILLED_MIN) return new Uint8Array(length);
  const b = NodeBuffer.allocUnsafeSlow(length);
  return new Uint8Array(b.buffer, b.byteOffset, length);
}

/** Writes an 8-byte header into `target` at `at`. Values are truncated to their field widths. */
export function writeHeader(target: Uint8Array, at: number, header: RecordHeader): void {
  target[at] = header.version & 0xff;
  target[at + 1] = header.type & 0xff;
  target[at + 2] = (header.requestId >>> 8) & 0xff;
  target[at + 3] = header.requestId & 0xff;
  target[at + 4] = (header.contentLength >>> 8) & 0xff;
  target[at + 5] = header.contentLength & 0xff;
  target[at + 6] = header.paddingLength & 0xff;
  target[at + 7] = header.reserved & 0xff;
}

/** Reads the 8-byte header at `at`; the caller guarantees 8 bytes are there. */
export function readHeader(source: Uint8Array, at = 0): RecordHeader {
  return {
    version: source[at]!,
    type: source[at + 1]!,
    requestId: (source[at + 2]! << 8) | source[at + 3]!,
    contentLength: (source[at + 4]! << 8) | source[at + 5]!,
    paddingLength: source[at + 6]!,
    reserved: source[at + 7]!,
  };
}

/**
 * Encodes one record: header, content, padding. Content longer than 65535 bytes is written as given with
 * a truncated contentLength, which is exactly the lie a scenario asks for; use `encodeStream` to split.
 */
export function encodeRecord(record: RecordInit, options: EncodeOptions = {}): Uint8Array {
  const content = record.content ?? EMPTY;
  const paddingLength = record.paddingLength ?? 0;
  const out = new Uint8Array(FCGI_HEADER_LEN + content.length + paddingLength);
  writeHeader(out, 0, {
    version: record.version ?? FCGI_VERSION_1,
    type: record.type,
    requestId: record.requestId,
    contentLength: options.contentLength ?? content.length,
    paddingLength,
    reserved: record.reserved ?? 0,
  });
  out.set(content, FCGI_HEADER_LEN);
  if (options.paddingByte) out.fill(options.paddingByte, FCGI_HEADER_LEN + content.length);
  return out;
}

/** Concatenates byte arrays into one. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Padding that brings a record of `contentLength` to a multiple of 8 bytes, as §3.3 recommends. */
export function alignedPadding(contentLength: number): number {
  return (8 - (contentLength % 8)) % 8;
}

/** How a stream's bytes are cut into records. */
export interface StreamEncodeOptions {
  /** Largest content per record, 1..65535; 65535 by default. */
  readonly maxContent?: number;
  /** Padding per record: a fixed length, 'align' for 8-byte alignment (the default), or a function of the record index. */
  readonly padding?: number | 'align' | ((index: number, contentLength: number) => number);
  /** Whether to end with the empty terminating record (default true). @see §3.3 "Stream records" */
  readonly terminate?: boolean;
  readonly paddingByte?: number;
}

// Record lengths and paddings of a stream, computed once (a padding function may be stateful, e.g. random).
function planStream(length: number, options: StreamEncodeOptions): { readonly lengths: number[]; readonly pads: number[]; readonly total: number } {
  const max = Math.max(1, Math.min(options.maxContent ?? FCGI_MAX_CONTENT_LENGTH, FCGI_MAX_CONTENT_LENGTH));
  const padding = options.padding ?? 'align';
  const lengths: number[] = [];
  for (let at = 0; at < length; at += max) lengths.push(Math.min(max, length - at));
  if (options.terminate !== false) lengths.push(0);
  const pads: number[] = [];
  let total = 0;
  for (let i = 0; i < lengths.length; i++) {
    const len = lengths[i]!;
    const pad = (padding === 'align' ? alignedPadding(len) : typeof padding === 'number' ? padding : padding(i, len)) & 0xff;
    pads.push(pad);
    total += FCGI_HEADER_LEN + len + pad;
  }
  return { lengths, pads, total };
}

/**
 * Encodes `data` as the records of one stream of `type` for `requestId`: zero or more non-empty records,
 * then (unless `terminate: false`) one empty record. @see §3.3
 */
export function encodeStream(type: number, requestId: number, data: Uint8Array, options: StreamEncodeOptions = {}): Uint8Array {
  const plan = planStream(data.length, options);
  // writeStream writes every byte (headers, content, padding) in one pass, so zero-filling first is wasted.
  const out = allocateUnfilled(plan.total);
  writeStream(out, 0, type, requestId, data, plan.lengths, plan.pads, options.paddingByte ?? 0);
  return out;
}

/**
 * Like `encodeStream`, but writes into `target` at `at` (no allocation); returns the offset after the last
 * record. Throws a RangeError, writing nothing, when the records do not fit.
 */
export function encodeStreamInto(target: Uint8Array, at: number, type: number, requestId: number, data: Uint8Array, options: StreamEncodeOptions = {}): number {
  const plan = planStream(data.length, options);
  if (at < 0 || at + plan.total > target.length) throw new RangeError(`encodeStreamInto: ${plan.total} bytes do not fit at ${at} in ${target.length}`);
  return writeStream(target, at, type, requestId, data, plan.lengths, plan.pads, options.paddingByte ?? 0);
}

function writeStream(out: Uint8Array, start: number, type: number, requestId: number, data: Uint8Array, lengths: readonly number[], pads: readonly number[], paddingByte: number): number {
  let at = start;
  let src = 0;
  for (let i = 0; i < lengths.length; i++) {
    const len = lengths[i]!;
    const pad = pads[i]!;
    const end = at + FCGI_HEADER_LEN + len;
    out[at] = FCGI_VERSION_1;
    out[at + 1] = type & 0xff;
    out[at + 2] = (requestId >>> 8) & 0xff;
    out[at + 3] = requestId & 0xff;
    out[at + 4] = len >>> 8;
    out[at + 5] = len & 0xff;
    out[at + 6] = pad;
    out[at + 7] = 0;
    out.set(data.subarray(src, src + len), at + FCGI_HEADER_LEN);
    // The target may hold old bytes (encodeStreamInto): padding is always written.
    if (pad > 0) out.fill(paddingByte, end, end + pad);
    src += len;
    at = end + pad;
  }
  return at;
}

/** Result of decoding one record from the front of a buffer. */
export type Decoded =
  | { readonly kind: 'record'; readonly record: DecodedRecord; readonly consumed: number }
  | { readonly kind: 'incomplete'; readonly needed: number };

// Builds the record whose header starts at `at` in `buf`; the caller guarantees the whole record is there.
// Reads the header in place and makes exactly two views of `buf` (content, padding), never a view of a view.
function recordAt(buf: Uint8Array, at: number, contentLength: number, paddingLength: number, offset: number): DecodedRecord {
  const contentStart = at + FCGI_HEADER_LEN;
  const contentEnd = contentStart + contentLength;
  return {
    version: buf[at]!,
    type: buf[at + 1]!,
    requestId: (buf[at + 2]! << 8) | buf[at + 3]!,
    content: buf.subarray(contentStart, contentEnd),
    paddingLength,
    reserved: buf[at + 7]!,
    padding: buf.subarray(contentEnd, contentEnd + paddingLength),
    offset,
  };
}

/** Decodes one record from the front of `buf`. Never throws: any 8 bytes frame a header. Content is a view. */
export function decodeRecord(buf: Uint8Array, offset = 0): Decoded {
  if (buf.length < FCGI_HEADER_LEN) return { kind: 'incomplete', needed: FCGI_HEADER_LEN - buf.length };
  const contentLength = (buf[4]! << 8) | buf[5]!;
  const paddingLength = buf[6]!;
  const total = FCGI_HEADER_LEN + contentLength + paddingLength;
  if (buf.length < total) return { kind: 'incomplete', needed: total - buf.length };
  return { kind: 'record', consumed: total, record: recordAt(buf, 0, contentLength, paddingLength, offset) };
}

// A straddling record's buffer, of the input's kind so that every record of a decoder has one type (records
// cut from Node Buffers are Buffers). Buffer.allocUnsafe skips zero-filling: every byte is written before the
// record is handed out, and an unfinished record is never handed out.
function allocateLike(chunk: Uint8Array, length: number): Uint8Array {
  return NodeBuffer?.isBuffer(chunk) ? NodeBuffer.allocUnsafe(length) : new Uint8Array(length);
}

/** Largest record on the wire: header, 65535 content bytes, 255 padding bytes. @see §3.3 */
export const FCGI_MAX_RECORD_LENGTH = FCGI_HEADER_LEN + FCGI_MAX_CONTENT_LENGTH + 0xff;

/**
 * Streaming record decoder. Feed it chunks split anywhere; it yields the same records. Content that lies
 * wholly inside one chunk is returned as a view of that chunk; a record that straddles chunks is copied
 * once into a buffer of its exact size (at most 8 + 65535 + 255 bytes), so a peer cannot make it hold more.
 */
export class RecordDecoder {
  // A straddling record: its header bytes first, then (once the header is complete) the whole record.
  readonly #header = new Uint8Array(FCGI_HEADER_LEN);
  #record: Uint8Array | undefined;
  #pendingLength = 0;
  #offset = 0; // stream offset of the next record's first byte

  /** Bytes fed so far. */
  get bytesFed(): number {
    return this.#offset + this.#pendingLength;
  }
  /** Bytes held of a record not yet complete. */
  get pendingBytes(): number {
    return this.#pendingLength;
  }

  /** Feeds a chunk; returns the records it completed, in order. Records stay valid after later pushes. */
  push(chunk: Uint8Array): DecodedRecord[] {
    const out: DecodedRecord[] = [];
    const length = chunk.length;
    let at = this.#pendingLength > 0 ? this.#fillPending(chunk, out) : 0;
    if (this.#pendingLength > 0) return out;
    let offset = this.#offset;
    while (length - at >= FCGI_HEADER_LEN) {
      const contentLength = (chunk[at + 4]! << 8) | chunk[at + 5]!;
      const paddingLength = chunk[at + 6]!;
      const total = FCGI_HEADER_LEN + contentLength + paddingLength;
      if (length - at < total) break;
      out.push(recordAt(chunk, at, contentLength, paddingLength, offset));
      at += total;
      offset += total;
    }
    this.#offset = offset;
    if (at < length) this.#fillPending(chunk.subarray(at), out);
    return out;
  }

  // Moves bytes from the front of `chunk` into the straddling record; returns how many it used.
  #fillPending(chunk: Uint8Array, out: DecodedRecord[]): number {
    let used = 0;
    if (this.#pendingLength < FCGI_HEADER_LEN) {
      const take = Math.min(FCGI_HEADER_LEN - this.#pendingLength, chunk.length);
      this.#header.set(chunk.subarray(0, take), this.#pendingLength);
      this.#pendingLength += take;
      used = take;
      if (this.#pendingLength < FCGI_HEADER_LEN) return used;
      const h = this.#header;
      const record = allocateLike(chunk, FCGI_HEADER_LEN + ((h[4]! << 8) | h[5]!) + h[6]!);
      record.set(h, 0);
      this.#record = record;
    }
    const record = this.#record!;
    const take = Math.min(record.length - this.#pendingLength, chunk.length - used);
    if (take > 0) record.set(chunk.subarray(used, used + take), this.#pendingLength);
    this.#pendingLength += take;
    used += take;
    if (this.#pendingLength === record.length) {
      out.push(recordAt(record, 0, (record[4]! << 8) | record[5]!, record[6]!, this.#offset));
      this.#offset += record.length;
      this.#pendingLength = 0;
      this.#record = undefined;
    }
    return used;
  }
}
