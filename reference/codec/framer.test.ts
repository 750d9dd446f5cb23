import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FCGI_HEADER_LEN, FCGI_STDOUT } from '../../spec/constants.ts';
import { RecordFramer, type FramerEvent } from './framer.ts';
import { concatBytes, encodeRecord, FCGI_MAX_RECORD_LENGTH, RecordDecoder, type DecodedRecord } from './record.ts';

const seed = 0x0f4a3e;

const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');

function patterned(length: number, salt: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + salt) & 0xff;
  return out;
}

// Any header values; mostly small contents, sometimes up to 65535, sometimes the edges.
const recordArb = fc.record({
  version: fc.nat(255),
  type: fc.nat(255),
  requestId: fc.nat(65535),
  content: fc.oneof(
    { weight: 6, arbitrary: fc.uint8Array({ maxLength: 40 }) },
    { weight: 2, arbitrary: fc.tuple(fc.integer({ min: 0, max: 65535 }), fc.nat(255)).map(([n, s]) => patterned(n, s)) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(0, 1, 7, 8, 65535), fc.nat(255)).map(([n, s]) => patterned(n, s)) },
  ),
  paddingLength: fc.oneof(fc.nat(255), fc.constantFrom(0, 255)),
  reserved: fc.nat(255),
  paddingByte: fc.nat(255),
});

const cutsArb = (length: number) =>
  fc.uniqueArray(fc.integer({ min: 0, max: length }), { maxLength: 40 }).map((cuts) => cuts.sort((a, b) => a - b));

function chunksOf(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    out.push(bytes.subarray(at, cut));
    at = cut;
  }
  return out;
}

// A comparable form of a record, however it was obtained.
function norm(r: DecodedRecord) {
  return { version: r.version, type: r.type, requestId: r.requestId, reserved: r.reserved, paddingLength: r.paddingLength, offset: r.offset, content: latin1(r.content), padding: latin1(r.padding) };
}

// Rebuilds records from framer events, checking the event grammar on the way:
// header (content)* (padding)* record-end, pieces non-empty and contiguous.
function rebuild(events: readonly FramerEvent[]): DecodedRecord[] {
  const out: DecodedRecord[] = [];
  let open: { header: FramerEvent & { kind: 'header' }; content: Uint8Array[]; padding: Uint8Array[]; c: number; p: number } | undefined;
  for (const e of events) {
    if (e.kind === 'header') {
      expect(open).toBeUndefined();
      open = { header: e, content: [], padding: [], c: 0, p: 0 };
      continue;
    }
    if (open === undefined) throw new Error(`${e.kind} outside a record`);
    if (e.kind === 'content') {
      expect(open.padding).toHaveLength(0);
      expect(e.bytes.length).toBeGreaterThan(0);
      expect(e.at).toBe(open.c);
      open.c += e.bytes.length;
      open.content.push(e.bytes);
    } else if (e.kind === 'padding') {
      expect(e.bytes.length).toBeGreaterThan(0);
      expect(e.at).toBe(open.p);
      open.p += e.bytes.length;
      open.padding.push(e.bytes);
    } else {
      const h = open.header.header;
      expect(e.header).toBe(h);
      expect(e.offset).toBe(open.header.offset);
      expect([open.c, open.p]).toEqual([h.contentLength, h.paddingLength]);
      out.push({ ...h, content: concatBytes(open.content), padding: concatBytes(open.padding), offset: e.offset });
      open = undefined;
    }
  }
  return out;
}

describe('RecordFramer', () => {
  it('frames the same records as RecordDecoder however the bytes are cut, handing out views of the chunks', () => {
    const arb = fc.array(recordArb, { maxLength: 6 }).chain((cases) => {
      const bytes = concatBytes(cases.map((c) => encodeRecord(c, { paddingByte: c.paddingByte })));
      return fc.tuple(fc.constant(bytes), cutsArb(bytes.length));
    });
    fc.assert(
      fc.property(arb, ([bytes, cuts]) => {
        const framer = new RecordFramer();
        const events: FramerEvent[] = [];
        for (const chunk of chunksOf(bytes, cuts)) {
          for (const e of framer.push(chunk)) {
            if (e.kind === 'content' || e.kind === 'padding') {
              expect(e.bytes.buffer).toBe(chunk.buffer);
              expect(e.bytes.byteOffset).toBeGreaterThanOrEqual(chunk.byteOffset);
              expect(e.bytes.byteOffset + e.bytes.length).toBeLessThanOrEqual(chunk.byteOffset + chunk.length);
            }
            events.push(e);
          }
        }
        expect(rebuild(events).map(norm)).toEqual(new RecordDecoder().push(bytes).map(norm));
        expect([framer.bytesFed, framer.pendingBytes]).toEqual([bytes.length, 0]);
      }),
      { seed, numRuns: 200 },
    );
  });

  it('never buffers content: a byte fed is a byte handed out, whatever the header declares', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.array(fc.nat(3000), { maxLength: 10 }), (bytes, rawCuts) => {
        const cuts = rawCuts.map((c) => c % (bytes.length + 1)).sort((x, y) => x - y);
        const framer = new RecordFramer();
        let fed = 0;
        let framed = 0; // header bytes of complete headers, plus content and padding handed out
        for (const chunk of chunksOf(bytes, cuts)) {
          for (const e of framer.push(chunk)) framed += e.kind === 'header' ? FCGI_HEADER_LEN : e.kind === 'record-end' ? 0 : e.bytes.length;
          fed += chunk.length;
          // Only an unfinished header (at most 7 bytes) may be held back.
          expect(fed - framed).toBeGreaterThanOrEqual(0);
          expect(fed - framed).toBeLessThan(FCGI_HEADER_LEN);
          expect(framer.bytesFed).toBe(fed);
          expect(framer.pendingBytes).toBeLessThan(FCGI_MAX_RECORD_LENGTH);
        }
      }),
      { seed, numRuns: 200 },
    );
  });

  it('hands out each byte of a largest record as it arrives, fed one byte at a time', () => {
    const bytes = encodeRecord({ type: FCGI_STDOUT, requestId: 1, content: patterned(65535, 5), paddingLength: 255 });
    const framer = new RecordFramer();
    const seen: string[] = []; // per byte fed: what came out (plain strings, checked once: expect() per byte is slow)
    const wrong: number[] = [];
    for (let i = 0; i < bytes.length; i++) {
      const events = framer.push(bytes.subarray(i, i + 1));
      seen.push(events.map((e) => e.kind).join('+'));
      const first = events[0];
      if ((first?.kind === 'content' || first?.kind === 'padding') && (first.bytes.length !== 1 || first.bytes[0] !== bytes[i])) wrong.push(i);
      if (i < bytes.length - 1 && framer.pendingBytes !== i + 1) wrong.push(i);
    }
    expect(wrong).toEqual([]);
    const expected = [
      ...Array<string>(FCGI_HEADER_LEN - 1).fill(''),
      'header',
      ...Array<string>(65535).fill('content'),
      ...Array<string>(254).fill('padding'),
      'padding+record-end',
    ];
    expect(seen.join(',')).toBe(expected.join(','));
    expect(framer.pendingBytes).toBe(0);
  });

  it('ends an empty, unpadded record right after its header; an empty chunk is no event', () => {
    const framer = new RecordFramer();
    expect(framer.push(new Uint8Array(0))).toEqual([]);
    const events = framer.push(concatBytes([encodeRecord({ type: FCGI_STDOUT, requestId: 3 }), encodeRecord({ type: FCGI_STDOUT, requestId: 4, paddingLength: 2 })]));
    expect(events.map((e) => [e.kind, e.kind === 'header' || e.kind === 'record-end' ? e.offset : e.at])).toEqual([
      ['header', 0],
      ['record-end', 0],
      ['header', 8],
      ['padding', 0],
      ['record-end', 8],
    ]);
  });

  it('starts over at offset 0 after reset, dropping an unfinished record', () => {
    const framer = new RecordFramer();
    const bytes = encodeRecord({ type: FCGI_STDOUT, requestId: 1, content: patterned(20, 1) });
    framer.push(bytes.subarray(0, 13));
    expect(framer.pendingBytes).toBe(13);
    framer.reset();
    expect([framer.bytesFed, framer.pendingBytes]).toEqual([0, 0]);
    expect(rebuild(framer.push(bytes)).map(norm)).toEqual(new RecordDecoder().push(bytes).map(norm));
  });
});
