import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes } from '../codec/record.ts';
import { encodeLength, encodeNameValuePair } from '../codec/name-value.ts';
import { ParamsParser, ParamTable, type ParamsLimits } from './params.ts';

const SEED = 777;
const roomy: ParamsLimits = { maxPairLength: 1 << 20, maxPairs: 10_000, maxTotalBytes: 1 << 22 };

function parse(chunks: readonly Uint8Array[], limits: ParamsLimits = roomy): { table: ParamTable; error: ReturnType<ParamsParser['end']> } {
  const table = new ParamTable();
  const parser = new ParamsParser(limits, table);
  for (const c of chunks) if (parser.push(Buffer.from(c))) break;
  return { table, error: parser.end() };
}

function splitAt(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const p of points) {
    out.push(bytes.subarray(at, p));
    at = p;
  }
  out.push(bytes.subarray(at));
  return out;
}

describe('ParamsParser', () => {
  it('decodes pairs in both length forms however the stream is split', () => {
    const bytesArb = fc.oneof(fc.uint8Array({ maxLength: 20 }), fc.uint8Array({ minLength: 120, maxLength: 300 }));
    const pair = fc.record({ name: bytesArb, value: bytesArb, nameForm: fc.constantFrom(1, 4), valueForm: fc.constantFrom(1, 4) });
    console.log(`fast-check seed ${SEED}`);
    fc.assert(
      fc.property(fc.array(pair, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 30 }), (pairs, cuts) => {
        const encoded = concatBytes(
          pairs.map((p) =>
            encodeNameValuePair(p.name, p.value, {
              nameForm: p.name.length > 127 ? 4 : (p.nameForm as 1 | 4),
              valueForm: p.value.length > 127 ? 4 : (p.valueForm as 1 | 4),
            }),
          ),
        );
        const { table, error } = parse(splitAt(encoded, cuts));
        expect(error).toBeUndefined();
        expect(table.pairs().map((p) => [[...p.name], [...p.value]])).toEqual(pairs.map((p) => [[...p.name], [...p.value]]));
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('reports a pair cut off by the end of the stream', () => {
    const pair = encodeNameValuePair('NAME', 'value');
    for (let cut = 1; cut < pair.length; cut++) {
      expect(parse([pair.subarray(0, cut)]).error?.kind).toBe('truncated');
    }
  });

  it('refuses a declared length past the bound at once, before its bytes arrive', () => {
    const huge = concatBytes([encodeLength(4, 4), encodeLength(0x7fffffff, 4), Buffer.from('NAME')]);
    expect(parse([huge], { ...roomy, maxPairLength: 1000 }).error).toMatchObject({ kind: 'pair-too-long', declared: 0x7fffffff, limit: 1000 });
    const many = concatBytes([encodeNameValuePair('A', '1'), encodeNameValuePair('B', '2'), encodeNameValuePair('C', '3')]);
    expect(parse([many], { ...roomy, maxPairs: 2 }).error).toMatchObject({ kind: 'too-many-pairs', offset: 8 });
    expect(parse([many], { ...roomy, maxTotalBytes: 5 }).error).toMatchObject({ kind: 'too-many-bytes', offset: 8 });
  });
});

describe('ParamTable', () => {
  it('finds the last value by bytes and gives text with the last value winning', () => {
    const bytes = concatBytes([encodeNameValuePair('X', 'first'), encodeNameValuePair('XY', 'other'), encodeNameValuePair('X', 'last'), encodeNameValuePair('€', 'euro')]);
    const { table } = parse(splitAt(bytes, [3, 9, 17]));
    expect(table.size).toBe(4);
    expect(table.find(Buffer.from('X'))?.toString()).toBe('last');
    expect(table.find(Buffer.from('Z'))).toBeUndefined();
    expect([...table.toMap()]).toEqual([['X', 'last'], ['XY', 'other'], ['€', 'euro']]);
  });
});
