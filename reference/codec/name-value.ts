/**
 * Name-value pairs: encoding, whole-buffer decoding and a bounded incremental parser for pairs that
 * straddle records. Pure. @see §3.4
 */
import { FCGI_MAX_NAME_VALUE_LENGTH } from '../../spec/constants.ts';
import { concatBytes } from './record.ts';

/** A pair as bytes: names and values are binary-safe (§3.4 has no terminator). */
export interface NameValuePair {
  readonly name: Uint8Array;
  readonly value: Uint8Array;
}

/** 1 = the one-byte form (lengths 0..127 only), 4 = the four-byte form (any length). */
export type LengthForm = 1 | 4;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

/** Text to bytes (UTF-8); bytes pass through. */
export function toBytes(value: string | Uint8Array): Uint8Array {
  return typeof value === 'string' ? encoder.encode(value) : value;
}
/** Bytes to text (UTF-8, replacement characters for invalid sequences). */
export function toText(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/**
 * Encodes a length: one byte when `form` is 1, four bytes with the high bit set when it is 4. Without a
 * form, lengths ≤ 127 take one byte. A length > 127 in form 1, or > 2^31−1, is truncated to its field:
 * that is a lie a scenario may ask for.
 * @see §3.4
 */
export function encodeLength(length: number, form?: LengthForm): Uint8Array {
  const f = form ?? (length <= 127 ? 1 : 4);
  if (f === 1) return Uint8Array.of(length & 0x7f);
  const n = length & FCGI_MAX_NAME_VALUE_LENGTH;
  return Uint8Array.of(((n >>> 24) & 0x7f) | 0x80, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

/** Decodes a length at `at`: the high bit of the first byte selects the form. `undefined` if bytes are missing. */
export function decodeLength(bytes: Uint8Array, at = 0): { readonly length: number; readonly size: LengthForm } | undefined {
  const b0 = bytes[at];
  if (b0 === undefined) return undefined;
  if ((b0 & 0x80) === 0) return { length: b0, size: 1 };
  if (at + 4 > bytes.length) return undefined;
  return { length: ((b0 & 0x7f) << 24) * 1 + (bytes[at + 1]! << 16) + (bytes[at + 2]! << 8) + bytes[at + 3]!, size: 4 };
}

/** Options to encode one pair, including forms the spec allows but encoders rarely use (4-byte short lengths). */
export interface PairEncodeOptions {
  readonly nameForm?: LengthForm;
  readonly valueForm?: LengthForm;
}

/** Encodes one pair: nameLength, valueLength, nameData, valueData. @see §3.4 */
export function encodeNameValuePair(name: string | Uint8Array, value: string | Uint8Array, options: PairEncodeOptions = {}): Uint8Array {
  const n = toBytes(name);
  const v = toBytes(value);
  const nl = encodeLength(n.length, options.nameForm);
  const vl = encodeLength(v.length, options.valueForm);
  const out = new Uint8Array(nl.length + vl.length + n.length + v.length);
  out.set(nl, 0);
  out.set(vl, nl.length);
  out.set(n, nl.length + vl.length);
  out.set(v, nl.length + vl.length + n.length);
  return out;
}

/** Params in any of the shapes users write them. */
export type ParamsInit =
  | Readonly<Record<string, string>>
  | Iterable<readonly [string | Uint8Array, string | Uint8Array]>;

/** Normalises params to an ordered list of byte pairs. */
export function paramsToPairs(params: ParamsInit): NameValuePair[] {
  const entries: Iterable<readonly [string | Uint8Array, string | Uint8Array]> =
    Symbol.iterator in params ? (params as Iterable<readonly [string | Uint8Array, string | Uint8Array]>) : Object.entries(params);
  const out: NameValuePair[] = [];
  for (const [name, value] of entries) out.push({ name: toBytes(name), value: toBytes(value) });
  return out;
}

/** Encodes pairs back to back, as the content of a FCGI_PARAMS or FCGI_GET_VALUES stream. */
export function encodeNameValuePairs(params: ParamsInit): Uint8Array {
  return concatBytes(paramsToPairs(params).map((p) => encodeNameValuePair(p.name, p.value)));
}

/** Limits that bound what a parser holds. Reaching one is a reported error, never a crash. */
export interface NameValueLimits {
  /** Largest name or value length accepted, in bytes. */
  readonly maxPairLength: number;
  /** Most pairs accepted. */
  readonly maxPairs: number;
  /** Most bytes of names and values accepted in total. */
  readonly maxTotalBytes: number;
}

export const defaultNameValueLimits: NameValueLimits = {
  maxPairLength: 64 * 1024 * 1024,
  maxPairs: 1_000_000,
  maxTotalBytes: 256 * 1024 * 1024,
};

/** Why a parser stopped. */
export type NameValueError =
  | { readonly kind: 'pair-too-long'; readonly declared: number; readonly limit: number; readonly offset: number }
  | { readonly kind: 'too-many-pairs'; readonly limit: number; readonly offset: number }
  | { readonly kind: 'too-many-bytes'; readonly limit: number; readonly offset: number }
  | { readonly kind: 'truncated'; readonly offset: number; readonly missing: number };

/**
 * Incremental pair parser for a stream whose records may cut a pair anywhere (§3.3, §3.4). It holds at
 * most one partial pair, bounded by the limits; after an error it ignores further input.
 */
export class NameValueParser {
  readonly #limits: NameValueLimits;
  #chunks: Uint8Array[] = [];
  #held = 0;
  #need = 1;
  #offset = 0; // stream offset of the first held byte
  #total = 0;
  #count = 0;
  #error: NameValueError | undefined;

  constructor(limits: Partial<NameValueLimits> = {}) {
    this.#limits = { ...defaultNameValueLimits, ...limits };
  }

  get error(): NameValueError | undefined {
    return this.#error;
  }
  get pairCount(): number {
    return this.#count;
  }
  /** Bytes held of a pair not yet complete; never more than the bytes fed since the last complete pair. */
  get heldBytes(): number {
    return this.#held;
  }

  /** Feeds stream bytes; returns the pairs they completed. */
  push(chunk: Uint8Array): NameValuePair[] {
    if (this.#error || chunk.length === 0) return [];
    // Hold chunks until the pair in progress can be complete, so a large value costs one copy, not one per chunk.
    this.#chunks.push(chunk);
    this.#held += chunk.length;
    if (this.#held < this.#need) return [];
    const buf = this.#chunks.length === 1 ? this.#chunks[0]! : concatBytes(this.#chunks);
    this.#chunks = [];
    const out: NameValuePair[] = [];
    let at = 0;
    this.#need = 1;
    for (;;) {
      const nl = decodeLength(buf, at);
      const vl = nl && decodeLength(buf, at + nl.size);
      if (!nl || !vl) {
        this.#need = headerBytesNeeded(buf, at);
        break;
      }
      for (const declared of [nl.length, vl.length]) {
        if (declared > this.#limits.maxPairLength) {
          return this.#fail(out, { kind: 'pair-too-long', declared, limit: this.#limits.maxPairLength, offset: this.#offset + at });
        }
      }
      if (this.#total + nl.length + vl.length > this.#limits.maxTotalBytes) {
        return this.#fail(out, { kind: 'too-many-bytes', limit: this.#limits.maxTotalBytes, offset: this.#offset + at });
      }
      const start = at + nl.size + vl.size;
      const end = start + nl.length + vl.length;
      if (end > buf.length) {
        this.#need = end - at;
        break;
      }
      if (this.#count + 1 > this.#limits.maxPairs) {
        return this.#fail(out, { kind: 'too-many-pairs', limit: this.#limits.maxPairs, offset: this.#offset + at });
      }
      out.push({ name: buf.slice(start, start + nl.length), value: buf.slice(start + nl.length, end) });
      this.#count++;
      this.#total += nl.length + vl.length;
      at = end;
    }
    if (at < buf.length) this.#chunks.push(buf.subarray(at));
    this.#held = buf.length - at;
    this.#need = Math.max(1, this.#need);
    this.#offset += at;
    return out;
  }

  /** Call at end of stream: an unfinished pair is a `truncated` error. */
  end(): NameValueError | undefined {
    if (!this.#error && this.#held > 0) {
      this.#error = { kind: 'truncated', offset: this.#offset, missing: Math.max(1, this.#need - this.#held) };
    }
    return this.#error;
  }

  #fail(out: NameValuePair[], error: NameValueError): NameValuePair[] {
    this.#error = error;
    this.#chunks = [];
    this.#held = 0;
    return out;
  }
}


// Smallest count of bytes from `at` that can hold both lengths, given the bytes already there.
function headerBytesNeeded(buf: Uint8Array, at: number): number {
  const sizeAt = (i: number): number => (buf[i] === undefined ? 1 : buf[i]! & 0x80 ? 4 : 1);
  const nameSize = sizeAt(at);
  return nameSize + (at + nameSize < buf.length ? sizeAt(at + nameSize) : 1);
}

/** Decodes a complete buffer of pairs. */
export function decodeNameValuePairs(bytes: Uint8Array, limits: Partial<NameValueLimits> = {}): { readonly pairs: NameValuePair[]; readonly error: NameValueError | undefined } {
  const parser = new NameValueParser(limits);
  const pairs = parser.push(bytes);
  return { pairs, error: parser.end() };
}

/** Pairs as a text map; for duplicate names the last value wins. */
export function pairsToMap(pairs: readonly NameValuePair[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const p of pairs) map.set(toText(p.name), toText(p.value));
  return map;
}
