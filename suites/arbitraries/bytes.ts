/**
 * Arbitraries for byte strings, as the fuzzer's plans and the codec's property tests use them: small ones
 * often, and lengths that cross the boundaries that matter (127/128 for name-value lengths, 65535/65536 for a
 * record's content), large ones as a seeded pattern so a plan stays small.
 * @see §3.3 §3.4
 */
import fc from 'fast-check';
import { FCGI_MAX_CONTENT_LENGTH } from '../../spec/constants.ts';
import type { BytesSpec } from '../fuzz/plan.ts';
import { specOf } from '../fuzz/plan.ts';

/** Any bytes, 0..`maxLength`. */
export function anyBytes(maxLength: number): fc.Arbitrary<Uint8Array> {
  return fc.uint8Array({ maxLength: Math.max(0, maxLength) });
}

/** Bytes without NUL: what a CGI value may hold (§6.1: "the value itself does not include a null byte"). */
export function cgiValueBytes(maxLength: number): fc.Arbitrary<Uint8Array> {
  return fc.uint8Array({ min: 1, max: 255, maxLength: Math.max(0, maxLength) });
}

/** Printable ASCII without spaces at the ends, for texts the probe writes back (PROBE_TEXT). */
export function printableText(minLength: number, maxLength: number): fc.Arbitrary<string> {
  return fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength, maxLength });
}

/** Lengths near the boundaries a receiver may get wrong, at most `max`. */
export function boundaryLengths(max: number): number[] {
  return [127, 128, 255, 256, 8191, 8192, FCGI_MAX_CONTENT_LENGTH - 8, FCGI_MAX_CONTENT_LENGTH, FCGI_MAX_CONTENT_LENGTH + 1, 2 * FCGI_MAX_CONTENT_LENGTH + 7].filter((n) => n <= max);
}

/**
 * A body of 0..`max` bytes as a plan stores it: empty first (what shrinking goes for), small arbitrary bytes
 * often, a medium or boundary-sized pattern now and then.
 */
export function bodySpec(max: number): fc.Arbitrary<BytesSpec> {
  const small = Math.min(max, 64);
  const medium = Math.min(max, 4096);
  const arbs: fc.WeightedArbitrary<BytesSpec>[] = [
    { arbitrary: fc.constant(''), weight: 4 },
    { arbitrary: anyBytes(small).map(specOf), weight: 5 },
  ];
  if (medium > small) arbs.push({ arbitrary: fc.record({ pattern: fc.nat(), length: fc.integer({ min: small + 1, max: medium }) }), weight: 2 });
  if (max > medium) arbs.push({ arbitrary: fc.record({ pattern: fc.nat(), length: fc.integer({ min: medium + 1, max }) }), weight: 1 });
  const edges = boundaryLengths(max).filter((n) => n > small);
  if (edges.length > 0) arbs.push({ arbitrary: fc.record({ pattern: fc.nat(), length: fc.constantFrom(...edges) }), weight: 1 });
  return fc.oneof({ withCrossShrink: true }, ...arbs);
}
