import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeBeginRequestBody,
  decodeEndRequestBody,
  decodeUnknownTypeBody,
  encodeBeginRequestBody,
  encodeEndRequestBody,
  encodeUnknownTypeBody,
} from './bodies.ts';

const seed = 0x0fcb0;

describe('fixed bodies', () => {
  it('round-trip BEGIN_REQUEST, END_REQUEST and UNKNOWN_TYPE bodies, reserved bytes included', () => {
    fc.assert(
      fc.property(
        fc.nat(0xffff),
        fc.nat(0xff),
        fc.nat(0xffffffff),
        fc.uint8Array({ minLength: 7, maxLength: 7 }),
        (u16, u8, u32, reserved) => {
          const begin = decodeBeginRequestBody(encodeBeginRequestBody({ role: u16, flags: u8, reserved: reserved.subarray(0, 5) }));
          expect(begin).toEqual({ role: u16, flags: u8, reserved: reserved.slice(0, 5), length: 8 });
          const end = decodeEndRequestBody(encodeEndRequestBody({ appStatus: u32, protocolStatus: u8, reserved: reserved.subarray(0, 3) }));
          expect(end).toEqual({ appStatus: u32, protocolStatus: u8, reserved: reserved.slice(0, 3), length: 8 });
          const unknown = decodeUnknownTypeBody(encodeUnknownTypeBody({ type: u8, reserved }));
          expect(unknown).toEqual({ type: u8, reserved, length: 8 });
        },
      ),
      { seed, numRuns: 200 },
    );
  });

  it('writes numbers big-endian (§3.1)', () => {
    expect([...encodeBeginRequestBody({ role: 0x0102, flags: 1 })]).toEqual([1, 2, 1, 0, 0, 0, 0, 0]);
    expect([...encodeEndRequestBody({ appStatus: 0x01020304, protocolStatus: 3 })]).toEqual([1, 2, 3, 4, 3, 0, 0, 0]);
  });

  it('decodes short or long bodies leniently and reports the length received', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 20 }), (content) => {
        const begin = decodeBeginRequestBody(content);
        expect(begin.length).toBe(content.length);
        expect(begin.role).toBe(((content[0] ?? 0) << 8) | (content[1] ?? 0));
        expect(decodeEndRequestBody(content).protocolStatus).toBe(content[4] ?? 0);
        expect(decodeUnknownTypeBody(content).type).toBe(content[0] ?? 0);
      }),
      { seed, numRuns: 100 },
    );
  });
});
