import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FCGI_MAX_NAME_VALUE_LENGTH } from '../../spec/constants.ts';
import { concatBytes } from './record.ts';
import {
  decodeLength,
  decodeNameValuePairs,
  encodeLength,
  encodeNameValuePair,
  encodeNameValuePairs,
  NameValueParser,
  pairsToMap,
  paramsToPairs,
  toBytes,
  type LengthForm,
  type NameValuePair,
} from './name-value.ts';

const seed = 0x0fc34;

function patterned(length: number, salt: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 7 + salt) & 0xff;
  return out;
}

// Lengths that cross the one-byte/four-byte boundary, with cheap sizes mostly.
const fieldArb = fc.oneof(
  { weight: 5, arbitrary: fc.uint8Array({ maxLength: 20 }) },
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(126, 127, 128, 129, 255, 256), fc.nat(255)).map(([n, s]) => patterned(n, s)) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(65535, 65536, 100_000), fc.nat(255)).map(([n, s]) => patterned(n, s)) },
);
// The form to encode a length in: the four-byte form is legal for any length; the one-byte form only up to 127.
const formFor = (length: number, pick4: boolean): LengthForm => (length > 127 || pick4 ? 4 : 1);
const pairCaseArb = fc.record({ name: fieldArb, value: fieldArb, name4: fc.boolean(), value4: fc.boolean() });
type PairCase = typeof pairCaseArb extends fc.Arbitrary<infer T> ? T : never;

const encodeCase = (c: PairCase): Uint8Array =>
  encodeNameValuePair(c.name, c.value, { nameForm: formFor(c.name.length, c.name4), valueForm: formFor(c.value.length, c.value4) });

const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
const normPairs = (pairs: readonly NameValuePair[]) => pairs.map((p) => [latin1(p.name), latin1(p.value)]);

function feed(parser: NameValueParser, bytes: Uint8Array, cuts: readonly number[]): NameValuePair[] {
  const out: NameValuePair[] = [];
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    out.push(...parser.push(bytes.subarray(at, cut)));
    at = cut;
  }
  return out;
}

const cutsArb = (length: number) =>
  fc.uniqueArray(fc.integer({ min: 0, max: length }), { maxLength: 30 }).map((cuts) => cuts.sort((a, b) => a - b));

describe('lengths', () => {
  it('encodeLength/decodeLength round-trip every length up to 2^31-1 in the four-byte form, and up to 127 in either', () => {
    const lengthArb = fc.oneof(fc.integer({ min: 0, max: FCGI_MAX_NAME_VALUE_LENGTH }), fc.constantFrom(0, 1, 127, 128, 65535, 65536, FCGI_MAX_NAME_VALUE_LENGTH));
    fc.assert(
      fc.property(lengthArb, fc.boolean(), (length, pick4) => {
        const form = formFor(length, pick4);
        const bytes = encodeLength(length, form);
        expect(bytes.length).toBe(form);
        expect(decodeLength(bytes)).toEqual({ length, size: form });
        // Without a form, the short form is chosen exactly for lengths up to 127.
        expect(encodeLength(length).length).toBe(length <= 127 ? 1 : 4);
      }),
      { seed, numRuns: 500 },
    );
  });

  it('decodes the four-byte form of a short length (the high bit, not the size, picks the form)', () => {
    expect(decodeLength(Uint8Array.of(0x80, 0, 0, 5))).toEqual({ length: 5, size: 4 });
    expect(decodeLength(Uint8Array.of(0xff, 0xff, 0xff, 0xff))).toEqual({ length: FCGI_MAX_NAME_VALUE_LENGTH, size: 4 });
    expect(decodeLength(Uint8Array.of(0x80, 0, 0))).toBeUndefined();
    expect(decodeLength(new Uint8Array(0))).toBeUndefined();
  });
});

describe('pairs', () => {
  it('round-trip across the 127/128 boundary in all four length-form combinations', () => {
    fc.assert(
      fc.property(fc.array(pairCaseArb, { maxLength: 6 }), (cases) => {
        const { pairs, error } = decodeNameValuePairs(concatBytes(cases.map(encodeCase)));
        expect(error).toBeUndefined();
        expect(normPairs(pairs)).toEqual(cases.map((c) => [latin1(c.name), latin1(c.value)]));
      }),
      { seed, numRuns: 150 },
    );
  });

  it('decodes each of the layouts 11, 14, 41, 44 (short lengths in the four-byte form included)', () => {
    for (const [nameForm, valueForm] of [
      [1, 1],
      [1, 4],
      [4, 1],
      [4, 4],
    ] as const) {
      const bytes = encodeNameValuePair('NAME', 'value', { nameForm, valueForm });
      expect(bytes.length).toBe(nameForm + valueForm + 9);
      expect(pairsToMap(decodeNameValuePairs(bytes).pairs)).toEqual(new Map([['NAME', 'value']]));
    }
  });

  it('encodes params given as a record, as entries, and as bytes alike', () => {
    const a = encodeNameValuePairs({ A: '1', B: '' });
    const b = encodeNameValuePairs([
      ['A', '1'],
      [toBytes('B'), new Uint8Array(0)],
    ]);
    expect(latin1(a)).toBe(latin1(b));
    expect(paramsToPairs({ A: '1' }).map((p) => latin1(p.name))).toEqual(['A']);
  });
});

describe('NameValueParser', () => {
  it('gives the same pairs however the stream is cut, inside lengths, names or values', () => {
    const arb = fc.array(pairCaseArb, { maxLength: 6 }).chain((cases) => {
      const bytes = concatBytes(cases.map(encodeCase));
      return fc.tuple(fc.constant(cases), fc.constant(bytes), cutsArb(bytes.length));
    });
    fc.assert(
      fc.property(arb, ([cases, bytes, cuts]) => {
        const parser = new NameValueParser();
        const pairs = feed(parser, bytes, cuts);
        expect(parser.end()).toBeUndefined();
        expect(normPairs(pairs)).toEqual(cases.map((c) => [latin1(c.name), latin1(c.value)]));
        expect(parser.heldBytes).toBe(0);
      }),
      { seed, numRuns: 150 },
    );
  });

  it('gives the same pairs fed one byte at a time', () => {
    const small = pairCaseArb.map((c) => ({ ...c, name: c.name.subarray(0, 200), value: c.value.subarray(0, 200) }));
    fc.assert(
      fc.property(fc.array(small, { maxLength: 4 }), (cases) => {
        const bytes = concatBytes(cases.map(encodeCase));
        const parser = new NameValueParser();
        const pairs = feed(parser, bytes, Array.from({ length: bytes.length }, (_, i) => i));
        expect(parser.end()).toBeUndefined();
        expect(normPairs(pairs)).toEqual(cases.map((c) => [latin1(c.name), latin1(c.value)]));
      }),
      { seed, numRuns: 100 },
    );
  });

  it('reports a pair cut short by the end of the stream as truncated, and a cut at a pair boundary as nothing', () => {
    const arb = fc.array(pairCaseArb, { minLength: 1, maxLength: 5 }).chain((cases) => {
      const parts = cases.map(encodeCase);
      const bytes = concatBytes(parts);
      return fc.tuple(fc.constant(parts), fc.constant(bytes), fc.integer({ min: 0, max: bytes.length }), cutsArb(bytes.length));
    });
    fc.assert(
      fc.property(arb, ([parts, bytes, end, cuts]) => {
        const parser = new NameValueParser();
        const pairs = feed(parser, bytes.subarray(0, end), cuts.filter((c) => c <= end));
        const boundaries = parts.reduce<number[]>((acc, p) => [...acc, acc.at(-1)! + p.length], [0]);
        const whole = boundaries.filter((b) => b > 0 && b <= end).length;
        expect(pairs.length).toBe(whole);
        const error = parser.end();
        if (boundaries.includes(end)) expect(error).toBeUndefined();
        else expect(error).toMatchObject({ kind: 'truncated', offset: boundaries[whole] });
      }),
      { seed, numRuns: 200 },
    );
  });

  it('never throws on arbitrary bytes, and never reports more than it was given', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(600), { maxLength: 8 }), (bytes, rawCuts) => {
        const cuts = rawCuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b);
        const parser = new NameValueParser({ maxPairLength: 1000 });
        const pairs = feed(parser, bytes, cuts);
        const error = parser.end();
        const used = pairs.reduce((n, p) => n + p.name.length + p.value.length + 2, 0);
        expect(used).toBeLessThanOrEqual(bytes.length);
        // Either the bytes were whole pairs, or the parser says why not; nothing is held after the end.
        if (error !== undefined) expect(['truncated', 'pair-too-long']).toContain(error.kind);
        expect(parser.heldBytes === 0 || error?.kind === 'truncated').toBe(true);
      }),
      { seed, numRuns: 300 },
    );
  });

  it('bounds memory: a declared length of 0x7fffffff with little data is refused at once under the default limits', () => {
    const parser = new NameValueParser();
    const pairs = parser.push(concatBytes([encodeLength(FCGI_MAX_NAME_VALUE_LENGTH, 4), encodeLength(1), patterned(1000, 0)]));
    expect(pairs).toEqual([]);
    expect(parser.error).toMatchObject({ kind: 'pair-too-long', declared: FCGI_MAX_NAME_VALUE_LENGTH });
    expect(parser.heldBytes).toBe(0);
    expect(parser.push(patterned(100, 0))).toEqual([]); // ignores input after an error
  });

  it('bounds memory: with the length limit lifted, it holds only the bytes it was given, never the declared length', () => {
    fc.assert(
      fc.property(fc.integer({ min: 200, max: FCGI_MAX_NAME_VALUE_LENGTH }), fc.array(fc.integer({ min: 1, max: 500 }), { maxLength: 20 }), (declared, sizes) => {
        const parser = new NameValueParser({ maxPairLength: FCGI_MAX_NAME_VALUE_LENGTH, maxTotalBytes: 2 ** 32 });
        let fed = 0;
        parser.push(concatBytes([encodeLength(declared, 4), encodeLength(0)]));
        fed += 5;
        for (const size of sizes) {
          if (fed + size >= declared + 5) break;
          parser.push(patterned(size, 1));
          fed += size;
          expect(parser.heldBytes).toBe(fed);
        }
        expect(parser.end()).toMatchObject({ kind: 'truncated', missing: declared + 5 - fed });
      }),
      { seed, numRuns: 100 },
    );
  });

  it('stops at maxPairs and maxTotalBytes with an error, keeping the pairs before it', () => {
    const bytes = encodeNameValuePairs({ A: '1', B: '2', C: '3' });
    const byCount = decodeNameValuePairs(bytes, { maxPairs: 2 });
    expect(normPairs(byCount.pairs)).toEqual([
      ['A', '1'],
      ['B', '2'],
    ]);
    expect(byCount.error).toMatchObject({ kind: 'too-many-pairs', limit: 2, offset: 8 });
    const bySize = decodeNameValuePairs(bytes, { maxTotalBytes: 5 });
    expect(bySize.pairs.length).toBe(2);
    expect(bySize.error).toMatchObject({ kind: 'too-many-bytes', limit: 5 });
  });
});
