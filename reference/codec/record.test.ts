import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FCGI_HEADER_LEN, FCGI_STDOUT } from '../../spec/constants.ts';
import {
  alignedPadding,
  concatBytes,
  decodeRecord,
  encodeRecord,
  encodeStream,
  encodeStreamInto,
  FCGI_MAX_RECORD_LENGTH,
  RecordDecoder,
  type DecodedRecord,
} from './record.ts';

const seed = 0x0fc61;

// Patterned bytes: large contents without asking fast-check for 65535 random values.
function patterned(length: number, salt: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + salt) & 0xff;
  return out;
}

// Cheap sizes mostly, sometimes any size up to 65535, sometimes the edges.
const contentArb = fc.oneof(
  { weight: 6, arbitrary: fc.uint8Array({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.tuple(fc.integer({ min: 0, max: 65535 }), fc.nat(255)).map(([n, s]) => patterned(n, s)) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(0, 1, 7, 8, 127, 128, 65527, 65528, 65534, 65535), fc.nat(255)).map(([n, s]) => patterned(n, s)) },
);

// Any header values at all: the codec frames records the spec forbids too.
const recordArb = fc.record({
  version: fc.nat(255),
  type: fc.nat(255),
  requestId: fc.nat(65535),
  content: contentArb,
  paddingLength: fc.oneof(fc.nat(255), fc.constantFrom(0, 255)),
  reserved: fc.nat(255),
  paddingByte: fc.nat(255),
});
type RecordCase = typeof recordArb extends fc.Arbitrary<infer T> ? T : never;

const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');

// A comparable form of a decoded record (contents as strings: fast and exact).
function norm(r: DecodedRecord) {
  return {
    version: r.version,
    type: r.type,
    requestId: r.requestId,
    reserved: r.reserved,
    paddingLength: r.paddingLength,
    offset: r.offset,
    content: latin1(r.content),
    padding: latin1(r.padding),
  };
}

function expected(cases: readonly RecordCase[]) {
  let offset = 0;
  return cases.map((c) => {
    const out = {
      version: c.version,
      type: c.type,
      requestId: c.requestId,
      reserved: c.reserved,
      paddingLength: c.paddingLength,
      offset,
      content: latin1(c.content),
      padding: latin1(new Uint8Array(c.paddingLength).fill(c.paddingByte)),
    };
    offset += FCGI_HEADER_LEN + c.content.length + c.paddingLength;
    return out;
  });
}

const encodeCase = (c: RecordCase): Uint8Array => encodeRecord(c, { paddingByte: c.paddingByte });

function feed(bytes: Uint8Array, cuts: readonly number[]): { records: DecodedRecord[]; decoder: RecordDecoder } {
  const decoder = new RecordDecoder();
  const records: DecodedRecord[] = [];
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    records.push(...decoder.push(bytes.subarray(at, cut)));
    at = cut;
  }
  return { records, decoder };
}

const cutsArb = (length: number) =>
  fc.uniqueArray(fc.integer({ min: 0, max: length }), { maxLength: 40 }).map((cuts) => cuts.sort((a, b) => a - b));

describe('encodeRecord / decodeRecord', () => {
  it('gives back every record, valid or not (any version, type, id, reserved, padding 0..255, content 0..65535)', () => {
    fc.assert(
      fc.property(recordArb, (c) => {
        const bytes = encodeCase(c);
        expect(bytes.length).toBe(FCGI_HEADER_LEN + c.content.length + c.paddingLength);
        const decoded = decodeRecord(bytes);
        expect(decoded.kind).toBe('record');
        if (decoded.kind !== 'record') return;
        expect(decoded.consumed).toBe(bytes.length);
        expect(norm(decoded.record)).toEqual(expected([c])[0]);
      }),
      { seed, numRuns: 300 },
    );
  });

  it('reports how many bytes an incomplete record still needs, for every prefix length', () => {
    fc.assert(
      fc.property(recordArb, fc.nat(), (c, n) => {
        const bytes = encodeCase(c);
        const cut = n % bytes.length; // a strict prefix
        const decoded = decodeRecord(bytes.subarray(0, cut));
        expect(decoded).toEqual({ kind: 'incomplete', needed: cut < FCGI_HEADER_LEN ? FCGI_HEADER_LEN - cut : bytes.length - cut });
      }),
      { seed, numRuns: 200 },
    );
  });

  it('returns content as a view of the input, not a copy', () => {
    const bytes = encodeRecord({ type: FCGI_STDOUT, requestId: 1, content: patterned(100, 3), paddingLength: 4 });
    const decoded = decodeRecord(bytes);
    if (decoded.kind !== 'record') throw new Error('expected a record');
    expect(decoded.record.content.buffer).toBe(bytes.buffer);
    expect(decoded.record.content.byteOffset).toBe(bytes.byteOffset + FCGI_HEADER_LEN);
  });

  it('lets a scenario lie about contentLength (the content is written as given)', () => {
    const bytes = encodeRecord({ type: FCGI_STDOUT, requestId: 1, content: patterned(10, 0) }, { contentLength: 3 });
    expect(bytes.length).toBe(18);
    expect((bytes[4]! << 8) | bytes[5]!).toBe(3);
  });
});

describe('RecordDecoder', () => {
  it('yields the same records however the bytes are cut (many records per chunk, records across chunks)', () => {
    const arb = fc.array(recordArb, { minLength: 0, maxLength: 6 }).chain((cases) => {
      const bytes = concatBytes(cases.map(encodeCase));
      return fc.tuple(fc.constant(cases), fc.constant(bytes), cutsArb(bytes.length));
    });
    fc.assert(
      fc.property(arb, ([cases, bytes, cuts]) => {
        const { records, decoder } = feed(bytes, cuts);
        expect(records.map(norm)).toEqual(expected(cases));
        expect(decoder.pendingBytes).toBe(0);
        expect(decoder.bytesFed).toBe(bytes.length);
      }),
      { seed, numRuns: 200 },
    );
  });

  it('yields the same records fed one byte at a time', () => {
    const small = recordArb.map((c) => ({ ...c, content: c.content.subarray(0, 300) }));
    fc.assert(
      fc.property(fc.array(small, { maxLength: 5 }), (cases) => {
        const bytes = concatBytes(cases.map(encodeCase));
        const { records } = feed(bytes, Array.from({ length: bytes.length }, (_, i) => i));
        expect(records.map(norm)).toEqual(expected(cases));
      }),
      { seed, numRuns: 100 },
    );
  });

  it('decodes a largest record (65535 content, 255 padding) fed one byte at a time', () => {
    const c: RecordCase = { version: 1, type: FCGI_STDOUT, requestId: 65535, content: patterned(65535, 9), paddingLength: 255, reserved: 0, paddingByte: 0xaa };
    const bytes = encodeCase(c);
    expect(bytes.length).toBe(FCGI_MAX_RECORD_LENGTH);
    const { records } = feed(bytes, Array.from({ length: bytes.length }, (_, i) => i));
    expect(records.map(norm)).toEqual(expected([c]));
  });

  it('keeps records valid after later pushes (a straddling record is not in a reused buffer)', () => {
    const a = encodeRecord({ type: FCGI_STDOUT, requestId: 1, content: patterned(100, 1) });
    const b = encodeRecord({ type: FCGI_STDOUT, requestId: 2, content: patterned(100, 2) });
    const decoder = new RecordDecoder();
    const first = [...decoder.push(a.subarray(0, 50)), ...decoder.push(concatBytes([a.subarray(50), b.subarray(0, 50)]))];
    const second = decoder.push(b.subarray(50));
    expect(latin1(first[0]!.content)).toBe(latin1(patterned(100, 1)));
    expect(latin1(second[0]!.content)).toBe(latin1(patterned(100, 2)));
  });

  it('hands out records of the type it is fed: Buffers from Buffers, Uint8Arrays from Uint8Arrays, straddlers included', () => {
    const bytes = concatBytes([encodeRecord({ type: FCGI_STDOUT, requestId: 1, content: patterned(100, 1) }), encodeRecord({ type: FCGI_STDOUT, requestId: 1, content: patterned(5000, 2) })]);
    for (const wrap of [(b: Uint8Array) => Buffer.from(b), (b: Uint8Array) => new Uint8Array(b)]) {
      const decoder = new RecordDecoder();
      const records = [...decoder.push(wrap(bytes.subarray(0, 50))), ...decoder.push(wrap(bytes.subarray(50, 2000))), ...decoder.push(wrap(bytes.subarray(2000)))];
      expect(records).toHaveLength(2);
      const kind = wrap(new Uint8Array(1)).constructor;
      for (const r of records) expect(r.content.constructor).toBe(kind);
      expect(records.map((r) => latin1(r.content))).toEqual([latin1(patterned(100, 1)), latin1(patterned(5000, 2))]);
    }
  });

  it('holds at most one record in progress, whatever the header declares', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 3000 }), fc.array(fc.nat(3000), { maxLength: 10 }), (bytes, rawCuts) => {
        const cuts = rawCuts.map((c) => c % (bytes.length + 1)).sort((x, y) => x - y);
        const { records, decoder } = feed(bytes, cuts);
        expect(decoder.pendingBytes).toBeLessThanOrEqual(FCGI_MAX_RECORD_LENGTH);
        const framed = records.reduce((n, r) => n + FCGI_HEADER_LEN + r.content.length + r.paddingLength, 0);
        expect(framed + decoder.pendingBytes).toBe(bytes.length);
      }),
      { seed, numRuns: 200 },
    );
  });
});

describe('encodeStream', () => {
  it('cuts data into records of at most maxContent bytes, aligned by default, ending with one empty record', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200_000 }), fc.integer({ min: 1, max: 70_000 }), fc.nat(255), (rawLength, maxContent, salt) => {
        const length = Math.min(rawLength, maxContent * 40); // at most ~40 records per run
        const data = patterned(length, salt);
        const bytes = encodeStream(FCGI_STDOUT, 3, data, { maxContent });
        const { records, decoder } = feed(bytes, []);
        expect(decoder.pendingBytes).toBe(0);
        const max = Math.min(maxContent, 65535);
        expect(records.length).toBe(Math.ceil(length / max) + 1);
        const bad = records.filter(
          (r) =>
            r.type !== FCGI_STDOUT ||
            r.requestId !== 3 ||
            r.content.length > max ||
            r.paddingLength !== alignedPadding(r.content.length) ||
            (FCGI_HEADER_LEN + r.content.length + r.paddingLength) % 8 !== 0,
        );
        expect(bad.map(norm)).toEqual([]);
        expect(records.at(-1)!.content.length).toBe(0);
        expect(records.slice(0, -1).every((r) => r.content.length > 0)).toBe(true);
        expect(latin1(concatBytes(records.map((r) => r.content)))).toBe(latin1(data));
      }),
      { seed, numRuns: 60 },
    );
  });

  it('encodeStreamInto writes the same bytes into a given buffer, padding over old bytes, and refuses a target too small', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.integer({ min: 1, max: 1000 }), fc.nat(255), fc.nat(16), (data, maxContent, paddingByte, at) => {
        const options = { maxContent, padding: (i: number) => i % 3, paddingByte };
        const expectedBytes = encodeStream(FCGI_STDOUT, 2, data, options);
        const target = new Uint8Array(at + expectedBytes.length).fill(0x5a);
        expect(encodeStreamInto(target, at, FCGI_STDOUT, 2, data, options)).toBe(target.length);
        expect(latin1(target.subarray(at))).toBe(latin1(expectedBytes));
        expect(() => encodeStreamInto(target, at + 1, FCGI_STDOUT, 2, data, options)).toThrow(RangeError);
      }),
      { seed, numRuns: 100 },
    );
  });

  // Fresh memory is often zero anyway, so a byte left unwritten may not show here; the encodeStreamInto test
  // below runs the same writer over old bytes.
  it('writes every byte: the same bytes as its records encoded one by one, also at sizes where it skips zero-filling', () => {
    const arb = fc.record({
      length: fc.oneof(fc.nat(3000), fc.integer({ min: 60_000, max: 300_000 })),
      maxContent: fc.oneof(fc.constant(65535), fc.integer({ min: 1, max: 70_000 })),
      padding: fc.oneof(fc.constant<'align'>('align'), fc.nat(255), fc.array(fc.nat(255), { minLength: 1, maxLength: 5 })),
      paddingByte: fc.nat(255),
      terminate: fc.boolean(),
      salt: fc.nat(255),
    });
    fc.assert(
      fc.property(arb, ({ length, maxContent, padding, paddingByte, terminate, salt }) => {
        const data = patterned(Math.min(length, maxContent * 200), salt);
        const pad = Array.isArray(padding) ? (i: number) => padding[i % padding.length]! : padding;
        const bytes = encodeStream(FCGI_STDOUT, 9, data, { maxContent, padding: pad, paddingByte, terminate });
        const max = Math.min(maxContent, 65535);
        const parts: Uint8Array[] = [];
        let i = 0;
        for (let at = 0; at < data.length; at += max, i++) {
          const content = data.subarray(at, at + max);
          const p = pad === 'align' ? alignedPadding(content.length) : typeof pad === 'number' ? pad : pad(i);
          parts.push(encodeRecord({ type: FCGI_STDOUT, requestId: 9, content, paddingLength: p }, { paddingByte }));
        }
        if (terminate) parts.push(encodeRecord({ type: FCGI_STDOUT, requestId: 9, paddingLength: pad === 'align' ? 0 : typeof pad === 'number' ? pad : pad(i) }, { paddingByte }));
        expect(latin1(bytes)).toBe(latin1(concatBytes(parts)));
        // A plain Uint8Array over its own memory, as before.
        expect([bytes.constructor, bytes.byteOffset, bytes.buffer.byteLength]).toEqual([Uint8Array, 0, bytes.length]);
      }),
      { seed, numRuns: 60 },
    );
  });

  it('follows padding and terminate options', () => {
    const bytes = encodeStream(FCGI_STDOUT, 1, patterned(10, 0), { maxContent: 4, padding: (i) => i, terminate: false, paddingByte: 0xee });
    const { records } = feed(bytes, []);
    expect(records.map((r) => [r.content.length, r.paddingLength])).toEqual([
      [4, 0],
      [4, 1],
      [2, 2],
    ]);
    expect([...records[2]!.padding]).toEqual([0xee, 0xee]);
  });
});
