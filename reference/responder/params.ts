/**
 * The responder's FCGI_PARAMS parser: the codec's NameValueParser rewritten for the hot path. Pairs are
 * recorded as offsets into the received chunk when they lie inside one record (no copy, no object per name
 * or value until someone asks); a pair cut by record boundaries is assembled once into a buffer of exactly
 * its size, so a long value split into many records costs one copy. Bounded by the same limits, reporting
 * the same errors.
 * @see §3.4 (pairs), §5.2 (the stream)
 */
import type { NameValueError, NameValuePair } from '../codec/name-value.ts';

export interface ParamsLimits {
  readonly maxPairLength: number;
  readonly maxPairs: number;
  readonly maxTotalBytes: number;
}

const LENGTHS = 0;
const BODY = 1;

/** A name-value pair whose name and value are Buffers (views or copies). */
export interface BufferPair extends NameValuePair {
  readonly name: Buffer;
  readonly value: Buffer;
}

export class ParamsParser {
  readonly #limits: ParamsLimits;
  readonly #out: ParamTable;
  #state = LENGTHS;
  // Length bytes of a pair cut inside its lengths (at most 8).
  readonly #scratch = Buffer.allocUnsafe(8);
  #scratchFill = 0;
  #nameLength = 0;
  #need = 0;
  #partial: Buffer | undefined;
  #partialFill = 0;
  #count = 0;
  #total = 0;
  #offset = 0; // stream offset of the pair in progress
  #consumed = 0;
  #error: NameValueError | undefined;

  /** Pairs are added to `out` as they complete. */
  constructor(limits: ParamsLimits, out: ParamTable) {
    this.#limits = limits;
    this.#out = out;
  }

  get error(): NameValueError | undefined {
    return this.#error;
  }

  /** Feeds stream bytes; returns the error that stopped parsing, if any (then ignores further input). */
  push(chunk: Buffer): NameValueError | undefined {
    if (this.#error) return this.#error;
    let at = 0;
    const n = chunk.length;
    while (at < n) {
      if (this.#state === LENGTHS) {
        at = this.#scratchFill === 0 ? this.#lengthsFrom(chunk, at) : this.#lengthsScratch(chunk, at);
        if (this.#error) return this.#error;
        continue;
      }
      if (this.#partial === undefined && n - at >= this.#need) {
        this.#emit(chunk, at);
        at += this.#need;
        continue;
      }
      const partial = (this.#partial ??= Buffer.allocUnsafe(this.#need));
      const take = Math.min(this.#need - this.#partialFill, n - at);
      chunk.copy(partial, this.#partialFill, at, at + take);
      this.#partialFill += take;
      at += take;
      if (this.#partialFill === this.#need) {
        this.#partial = undefined;
        this.#partialFill = 0;
        this.#emit(partial, 0);
      }
    }
    this.#consumed += n;
    return undefined;
  }

  /** End of stream: a pair left unfinished is a `truncated` error. */
  end(): NameValueError | undefined {
    if (this.#error) return this.#error;
    if (this.#state === BODY) {
      this.#error = { kind: 'truncated', offset: this.#offset, missing: this.#need - this.#partialFill };
    } else if (this.#scratchFill > 0) {
      this.#error = { kind: 'truncated', offset: this.#offset, missing: 1 };
    }
    return this.#error;
  }

  // Decodes both lengths straight from the chunk when they are all there; otherwise starts the scratch.
  #lengthsFrom(chunk: Buffer, at: number): number {
    const avail = chunk.length - at;
    const b0 = chunk[at]!;
    const s1 = b0 & 0x80 ? 4 : 1;
    if (avail > s1) {
      const s2 = chunk[at + s1]! & 0x80 ? 4 : 1;
      if (avail >= s1 + s2) {
        this.#offset = this.#consumed + at;
        this.#onLengths(readLength(chunk, at, s1), readLength(chunk, at + s1, s2));
        return at + s1 + s2;
      }
    }
    this.#offset = this.#consumed + at;
    return this.#lengthsScratch(chunk, at);
  }

  // Collects length bytes one at a time (they straddle chunks); at most 8 bytes.
  #lengthsScratch(chunk: Buffer, at: number): number {
    const s = this.#scratch;
    while (at < chunk.length) {
      s[this.#scratchFill++] = chunk[at++]!;
      const s1 = s[0]! & 0x80 ? 4 : 1;
      if (this.#scratchFill <= s1) continue;
      const s2 = s[s1]! & 0x80 ? 4 : 1;
      if (this.#scratchFill < s1 + s2) continue;
      this.#scratchFill = 0;
      this.#onLengths(readLength(s, 0, s1), readLength(s, s1, s2));
      break;
    }
    return at;
  }

  #onLengths(nameLength: number, valueLength: number): void {
    const limits = this.#limits;
    const offset = this.#offset;
    if (nameLength > limits.maxPairLength) return this.#fail({ kind: 'pair-too-long', declared: nameLength, limit: limits.maxPairLength, offset });
    if (valueLength > limits.maxPairLength) return this.#fail({ kind: 'pair-too-long', declared: valueLength, limit: limits.maxPairLength, offset });
    if (this.#total + nameLength + valueLength > limits.maxTotalBytes) return this.#fail({ kind: 'too-many-bytes', limit: limits.maxTotalBytes, offset });
    if (this.#count + 1 > limits.maxPairs) return this.#fail({ kind: 'too-many-pairs', limit: limits.maxPairs, offset });
    this.#nameLength = nameLength;
    this.#need = nameLength + valueLength;
    this.#state = BODY;
    if (this.#need === 0) this.#emit(EMPTY, 0);
  }

  #emit(source: Buffer, at: number): void {
    const nameEnd = at + this.#nameLength;
    const end = at + this.#need;
    this.#out.add(source, at, nameEnd, end);
    this.#count++;
    this.#total += this.#need;
    this.#state = LENGTHS;
  }

  #fail(error: NameValueError): void {
    this.#error = error;
    this.#partial = undefined;
  }
}

const EMPTY = Buffer.alloc(0);

function readLength(b: Buffer, at: number, size: 1 | 4): number {
  if (size === 1) return b[at]!;
  return (b[at]! & 0x7f) * 0x1000000 + (b[at + 1]! << 16) + (b[at + 2]! << 8) + b[at + 3]!;
}

/**
 * The params of one request: four numbers per pair (source, name start, value start, value end) over the
 * received buffers. Lookups compare bytes in place; pair objects and text are made only when asked for.
 */
export class ParamTable {
  readonly #sources: Buffer[] = [];
  readonly #index: number[] = [];
  #pairs: BufferPair[] | undefined;

  add(source: Buffer, nameStart: number, valueStart: number, valueEnd: number): void {
    let s = this.#sources.length - 1;
    if (s < 0 || this.#sources[s] !== source) s = this.#sources.push(source) - 1;
    this.#index.push(s, nameStart, valueStart, valueEnd);
    this.#pairs = undefined;
  }

  get size(): number {
    return this.#index.length >> 2;
  }

  /** The value of the last pair named `name` (bytes compared), as a view; undefined if absent. */
  find(name: Uint8Array): Buffer | undefined {
    const ix = this.#index;
    const n = name.length;
    outer: for (let i = ix.length - 4; i >= 0; i -= 4) {
      const start = ix[i + 1]!;
      if (ix[i + 2]! - start !== n) continue;
      const src = this.#sources[ix[i]!]!;
      for (let j = 0; j < n; j++) if (src[start + j] !== name[j]) continue outer;
      return src.subarray(ix[i + 2]!, ix[i + 3]!);
    }
    return undefined;
  }

  /** The pairs in order, as Buffer views. */
  pairs(): readonly BufferPair[] {
    if (this.#pairs) return this.#pairs;
    const ix = this.#index;
    const out: BufferPair[] = [];
    for (let i = 0; i < ix.length; i += 4) {
      const src = this.#sources[ix[i]!]!;
      out.push({ name: src.subarray(ix[i + 1]!, ix[i + 2]!), value: src.subarray(ix[i + 2]!, ix[i + 3]!) });
    }
    return (this.#pairs = out);
  }

  /** Pairs as text (UTF-8, replacement characters for invalid bytes); for duplicate names the last value wins. */
  toMap(): Map<string, string> {
    const map = new Map<string, string>();
    const ix = this.#index;
    for (let i = 0; i < ix.length; i += 4) {
      const src = this.#sources[ix[i]!]!;
      map.set(src.toString('utf8', ix[i + 1]!, ix[i + 2]!), src.toString('utf8', ix[i + 2]!, ix[i + 3]!));
    }
    return map;
  }
}
