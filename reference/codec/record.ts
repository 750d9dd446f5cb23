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

/**
 * Encodes `data` as the records of one stream of `type` for `requestId`: zero or more non-empty records,
 * then (unless `terminate: false`) one empty record. @see §3.3
 */
export function encodeStream(type: number, requestId: number, data: Uint8Array, options: StreamEncodeOptions = {}): Uint8Array {
  const max = Math.max(1, Math.min(options.maxContent ?? FCGI_MAX_CONTENT_LENGTH, FCGI_MAX_CONTENT_LENGTH));
  const padOf = (index: number, len: number): number => {
    const p = options.padding ?? 'align';
    if (p === 'align') return alignedPadding(len);
    if (typeof p === 'number') return p;
    return p(index, len);
  };
  const lengths: number[] = [];
  for (let at = 0; at < data.length; at += max) lengths.push(Math.min(max, data.length - at));
  if (options.terminate !== false) lengths.push(0);
  let total = 0;
  const pads = lengths.map((len, i) => {
    const pad = padOf(i, len) & 0xff;
    total += FCGI_HEADER_LEN + len + pad;
    return pad;
  });
  const out = new Uint8Array(total);
  let at = 0;
  let src = 0;
  lengths.forEach((len, i) => {
    const pad = pads[i]!;
    writeHeader(out, at, { version: FCGI_VERSION_1, type, requestId, contentLength: len, paddingLength: pad, reserved: 0 });
    out.set(data.subarray(src, src + len), at + FCGI_HEADER_LEN);
    if (options.paddingByte) out.fill(options.paddingByte, at + FCGI_HEADER_LEN + len, at + FCGI_HEADER_LEN + len + pad);
    src += len;
    at += FCGI_HEADER_LEN + len + pad;
  });
  return out;
}

/** Result of decoding one record from the front of a buffer. */
export type Decoded =
  | { readonly kind: 'record'; readonly record: DecodedRecord; readonly consumed: number }
  | { readonly kind: 'incomplete'; readonly needed: number };

/** Decodes one record from the front of `buf`. Never throws: any 8 bytes frame a header. Content is a view. */
export function decodeRecord(buf: Uint8Array, offset = 0): Decoded {
  if (buf.length < FCGI_HEADER_LEN) return { kind: 'incomplete', needed: FCGI_HEADER_LEN - buf.length };
  const h = readHeader(buf);
  const total = FCGI_HEADER_LEN + h.contentLength + h.paddingLength;
  if (buf.length < total) return { kind: 'incomplete', needed: total - buf.length };
  const contentEnd = FCGI_HEADER_LEN + h.contentLength;
  return {
    kind: 'record',
    consumed: total,
    record: {
      version: h.version,
      type: h.type,
      requestId: h.requestId,
      content: buf.subarray(FCGI_HEADER_LEN, contentEnd),
      paddingLength: h.paddingLength,
      reserved: h.reserved,
      padding: buf.subarray(contentEnd, total),
      offset,
    },
  };
}

/**
 * Streaming record decoder. Feed it chunks split anywhere; it yields the same records. Content that lies
 * wholly inside one chunk is returned as a view of that chunk; a record that straddles chunks is copied
 * once into a buffer of at most 8 + 65535 + 255 bytes, so a peer cannot make it hold more.
 */
export class RecordDecoder {
  #pending: Uint8Array = new Uint8Array(FCGI_HEADER_LEN + FCGI_MAX_CONTENT_LENGTH + 0xff);
  #pendingLength = 0;
  #needed = FCGI_HEADER_LEN;
  #offset = 0;

  /** Bytes fed so far. */
  get bytesFed(): number {
    return this.#offset + this.#pendingLength;
  }
  /** Bytes held of a record not yet complete. */
  get pendingBytes(): number {
    return this.#pendingLength;
  }

  /** Feeds a chunk; returns the records it completed, in order. */
  push(chunk: Uint8Array): DecodedRecord[] {
    const out: DecodedRecord[] = [];
    let at = 0;
    if (this.#pendingLength > 0) {
      at = this.#fillPending(chunk, out);
      if (this.#pendingLength > 0) return out;
    }
    while (at < chunk.length) {
      const decoded = decodeRecord(chunk.subarray(at), this.#offset);
      if (decoded.kind === 'incomplete') {
        this.#pending.set(chunk.subarray(at), 0);
        this.#pendingLength = chunk.length - at;
        this.#needed = this.#pendingLength < FCGI_HEADER_LEN ? FCGI_HEADER_LEN : this.#pendingLength + decoded.needed;
        break;
      }
      out.push(decoded.record);
      at += decoded.consumed;
      this.#offset += decoded.consumed;
    }
    return out;
  }

  // Completes the straddling record from the front of `chunk`; returns how many bytes of chunk it used.
  #fillPending(chunk: Uint8Array, out: DecodedRecord[]): number {
    let used = 0;
    for (;;) {
      const take = Math.min(this.#needed - this.#pendingLength, chunk.length - used);
      this.#pending.set(chunk.subarray(used, used + take), this.#pendingLength);
      this.#pendingLength += take;
      used += take;
      if (this.#pendingLength < this.#needed) return used;
      if (this.#needed === FCGI_HEADER_LEN) {
        const h = readHeader(this.#pending);
        this.#needed = FCGI_HEADER_LEN + h.contentLength + h.paddingLength;
        if (this.#needed > FCGI_HEADER_LEN) continue;
      }
      // Copy out of the reusable buffer: the record outlives the next push.
      const decoded = decodeRecord(this.#pending.slice(0, this.#needed), this.#offset);
      if (decoded.kind === 'record') out.push(decoded.record);
      this.#offset += this.#needed;
      this.#pendingLength = 0;
      this.#needed = FCGI_HEADER_LEN;
      return used;
    }
  }
}
