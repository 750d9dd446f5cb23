import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, encodeRecord } from '../codec/record.ts';
import { Framer, type FrameSink } from './framer.ts';

const SEED = 4242;

interface Seen {
  readonly type: number;
  readonly requestId: number;
  readonly content: number[];
}

function run(chunks: readonly Uint8Array[], refuseVersion?: number): { seen: Seen[]; headers: number } {
  const seen: Seen[] = [];
  let headers = 0;
  const sink: FrameSink = {
    header(version) {
      headers++;
      return version !== refuseVersion;
    },
    record(type, requestId, content) {
      seen.push({ type, requestId, content: [...content] });
      return true;
    },
  };
  const framer = new Framer(sink);
  for (const c of chunks) if (!framer.push(Buffer.from(c))) break;
  return { seen, headers };
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

describe('Framer', () => {
  it('yields the same records however the bytes are split', () => {
    const record = fc.record({
      type: fc.integer({ min: 0, max: 255 }),
      requestId: fc.integer({ min: 0, max: 0xffff }),
      content: fc.uint8Array({ maxLength: 300 }),
      paddingLength: fc.integer({ min: 0, max: 255 }),
    });
    console.log(`fast-check seed ${SEED}`);
    fc.assert(
      fc.property(fc.array(record, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 20 }), (records, cuts) => {
        const bytes = concatBytes(records.map((r) => encodeRecord(r)));
        const { seen } = run(splitAt(bytes, cuts));
        expect(seen).toEqual(records.map((r) => ({ type: r.type, requestId: r.requestId, content: [...r.content] })));
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('stops at a refused header without waiting for its content', () => {
    const good = encodeRecord({ type: 5, requestId: 1, content: Uint8Array.of(1, 2) });
    const http = Buffer.from('GET / HTTP/1.1\r\n'); // "version" 0x47, a 12 KiB "record"
    const { seen, headers } = run([concatBytes([good, http])], 0x47);
    expect(seen).toHaveLength(1);
    expect(headers).toBe(2);
  });
});
