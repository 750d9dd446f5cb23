/**
 * Arbitraries for records and for the ways a byte stream can be cut: any record (every header field free, the
 * forbidden values included), records a web server may send, and cut points that produce one-byte writes,
 * coalesced writes and everything between.
 * @see §3.3
 */
import fc from 'fast-check';
import {
  FCGI_ABORT_REQUEST,
  FCGI_BEGIN_REQUEST,
  FCGI_DATA,
  FCGI_GET_VALUES,
  FCGI_MAX_CONTENT_LENGTH,
  FCGI_PARAMS,
  FCGI_STDIN,
  FCGI_VERSION_1,
} from '../../spec/constants.ts';
import type { RecordInit } from '../../reference/codec/record.ts';
import { anyBytes } from './bytes.ts';

/** A record with content bytes, as the codec's property tests use it. */
export interface RecordValue extends RecordInit {
  readonly version: number;
  readonly content: Uint8Array;
  readonly paddingLength: number;
  readonly reserved: number;
}

/** Padding lengths: none mostly, the 8-byte alignment, the maximum, anything. @see §3.3 */
export function paddingLength(): fc.Arbitrary<number> {
  return fc.oneof({ withCrossShrink: true }, { arbitrary: fc.constant(0), weight: 3 }, { arbitrary: fc.constant(255), weight: 1 }, { arbitrary: fc.integer({ min: 0, max: 255 }), weight: 2 });
}

/** Any record: every header byte free (version, type, reserved), content up to `maxContent` bytes. */
export function anyRecord(maxContent = 512): fc.Arbitrary<RecordValue> {
  return fc.record({
    version: fc.oneof({ arbitrary: fc.constant(FCGI_VERSION_1), weight: 4 }, { arbitrary: fc.integer({ min: 0, max: 255 }), weight: 1 }),
    type: fc.integer({ min: 0, max: 255 }),
    requestId: fc.oneof(fc.constantFrom(0, 1, 2), fc.integer({ min: 0, max: 0xffff })),
    content: anyBytes(Math.min(maxContent, FCGI_MAX_CONTENT_LENGTH)),
    paddingLength: paddingLength(),
    reserved: fc.oneof({ arbitrary: fc.constant(0), weight: 4 }, { arbitrary: fc.integer({ min: 0, max: 255 }), weight: 1 }),
  });
}

/** A record of a type the web server sends (§8), version 1, reserved 0: what a conformant sender frames. */
export function webServerRecord(maxContent = 512): fc.Arbitrary<RecordValue> {
  return fc.record({
    version: fc.constant(FCGI_VERSION_1),
    type: fc.constantFrom(FCGI_BEGIN_REQUEST, FCGI_ABORT_REQUEST, FCGI_PARAMS, FCGI_STDIN, FCGI_DATA, FCGI_GET_VALUES),
    requestId: fc.integer({ min: 0, max: 0xffff }),
    content: anyBytes(Math.min(maxContent, FCGI_MAX_CONTENT_LENGTH)),
    paddingLength: paddingLength(),
    reserved: fc.constant(0),
  });
}

/**
 * Write sizes for a stream of `length` bytes' worth of writes (cycled by the caller): one write, one byte at
 * a time, small random pieces, or large ones.
 */
export function writeSizes(): fc.Arbitrary<number[]> {
  return fc.oneof(
    { withCrossShrink: true },
    { arbitrary: fc.constant<number[]>([]), weight: 4 },
    { arbitrary: fc.constant<number[]>([1]), weight: 1 },
    { arbitrary: fc.array(fc.integer({ min: 1, max: 64 }), { maxLength: 8 }).filter((a) => a.length > 0), weight: 2 },
    { arbitrary: fc.array(fc.integer({ min: 1, max: 70_000 }), { maxLength: 4 }).filter((a) => a.length > 0), weight: 2 },
  );
}

/** Offsets at which to cut `bytes` (sorted, unique, inside it). */
export function cutPoints(maxCuts = 16): fc.Arbitrary<number[]> {
  return fc.array(fc.nat(), { maxLength: maxCuts });
}

/** `bytes` cut at `cuts` (each taken modulo the length), in order, no empty piece. */
export function cutAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  if (bytes.length === 0) return [];
  const at = [...new Set(cuts.map((c) => c % bytes.length).filter((c) => c > 0))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const c of at) {
    out.push(bytes.subarray(from, c));
    from = c;
  }
  out.push(bytes.subarray(from));
  return out;
}
