/**
 * Arbitraries for name-value pairs: binary pairs for the codec (any bytes, lengths across the one-byte /
 * four-byte boundary, either length form), and CGI-like pairs for requests sent to real applications (names of
 * environment-variable characters, values without NUL) so that what an application reports back can be
 * compared byte for byte.
 * @see §3.4 §6.1
 */
import fc from 'fast-check';
import type { LengthForm } from '../../reference/codec/name-value.ts';
import type { BytesSpec } from '../fuzz/plan.ts';
import { specOf } from '../fuzz/plan.ts';
import { anyBytes, cgiValueBytes } from './bytes.ts';

/** A pair as the codec sees it, with the length forms to encode it in. */
export interface PairWithForms {
  readonly name: Uint8Array;
  readonly value: Uint8Array;
  readonly nameForm: LengthForm | undefined;
  readonly valueForm: LengthForm | undefined;
}

// Lengths either side of 127/128 come up often: that is where the length encoding changes (§3.4).
function boundaryBytes(bytes: fc.Arbitrary<Uint8Array>, max: number): fc.Arbitrary<Uint8Array> {
  const around = [126, 127, 128, 129].filter((n) => n <= max);
  return fc.oneof(
    { withCrossShrink: true },
    { arbitrary: bytes, weight: 4 },
    ...(around.length > 0 ? [{ arbitrary: fc.constantFrom(...around).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })), weight: 1 }] : []),
  );
}

/** Any pair: binary names and values up to `maxLength` bytes, each length in the shortest or the four-byte form. */
export function binaryPair(maxLength = 300): fc.Arbitrary<PairWithForms> {
  const form = fc.constantFrom<LengthForm | undefined>(undefined, 4);
  return fc.record({
    name: boundaryBytes(anyBytes(maxLength), maxLength),
    value: boundaryBytes(anyBytes(maxLength), maxLength),
    nameForm: form,
    valueForm: form,
  });
}

/** A CGI meta-variable name made for the fuzzer: `FZ_` then upper-case letters, digits and `_`. */
export function paramName(maxLength = 12): fc.Arbitrary<string> {
  const unit = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_'.split(''));
  return fc.oneof(
    { withCrossShrink: true },
    { arbitrary: fc.string({ unit, minLength: 1, maxLength }).map((s) => `FZ_${s}`), weight: 9 },
    // A name past 127 bytes takes the four-byte length form.
    { arbitrary: fc.integer({ min: 125, max: 200 }).map((n) => `FZ_${'N'.repeat(n)}`), weight: 1 },
  );
}

/** A CGI value: no NUL (§6.1), small mostly, sometimes past 127 bytes, up to `maxLength`. */
export function paramValue(maxLength: number): fc.Arbitrary<BytesSpec> {
  const small = Math.min(maxLength, 40);
  const arbs: fc.WeightedArbitrary<BytesSpec>[] = [{ arbitrary: cgiValueBytes(small).map(specOf), weight: 6 }];
  if (maxLength >= 128) {
    arbs.push({ arbitrary: fc.uint8Array({ min: 1, max: 255, minLength: 126, maxLength: Math.min(maxLength, 140) }).map(specOf), weight: 2 });
    // Long values as generated text: readable in a replay file, and free of NUL.
    arbs.push({ arbitrary: fc.record({ seed: fc.nat(), length: fc.integer({ min: 141, max: Math.max(141, maxLength) }) }).map((v) => asciiText(v.length, v.seed)), weight: 1 });
  }
  return fc.oneof({ withCrossShrink: true }, ...arbs);
}

/** `length` letters and digits, chosen by `seed` (deterministic). */
export function asciiText(length: number, seed: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~';
  let x = seed >>> 0 || 1;
  let out = '';
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out += alphabet[(x >>> 0) % alphabet.length];
  }
  return out;
}

/**
 * The fuzzer's own params of a request: unique `FZ_` names, values whose total stays within `maxBytes`.
 */
export function fuzzParams(maxBytes: number, maxPairs = 4): fc.Arbitrary<[string, BytesSpec][]> {
  return fc
    .uniqueArray(fc.tuple(paramName(), paramValue(Math.max(0, maxBytes))), { maxLength: maxPairs, selector: ([n]) => n })
    .map((pairs) => {
      let budget = maxBytes;
      const out: [string, BytesSpec][] = [];
      for (const [n, v] of pairs) {
        const length = typeof v === 'string' ? v.length : 'hex' in v ? v.hex.length / 2 : v.length;
        if (length > budget) continue;
        budget -= length;
        out.push([n, v]);
      }
      return out;
    });
}
