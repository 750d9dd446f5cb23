import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FCGI_ABORT_REQUEST,
  FCGI_BEGIN_REQUEST,
  FCGI_END_REQUEST,
  FCGI_GET_VALUES,
  FCGI_KEEP_CONN,
  FCGI_PARAMS,
  FCGI_RESPONDER,
  FCGI_STDIN,
  FCGI_STDOUT,
  FCGI_UNKNOWN_TYPE,
} from '../../spec/constants.ts';
import { encodeBeginRequestBody, encodeEndRequestBody, encodeUnknownTypeBody } from './bodies.ts';
import { DESCRIBE_MAX_CHARS, describeRecord, escapeBytes } from './describe.ts';
import { encodeNameValuePairs } from './name-value.ts';
import type { WireRecord } from './record.ts';

const seed = 0x0fcde;
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const record = (type: number, requestId: number, content: Uint8Array, more: Partial<WireRecord> = {}): WireRecord => ({
  version: 1,
  type,
  requestId,
  content,
  paddingLength: 0,
  ...more,
});

describe('describeRecord', () => {
  it.each([
    ['FCGI_BEGIN_REQUEST id=1 len=8 pad=0 FCGI_RESPONDER flags=FCGI_KEEP_CONN', record(FCGI_BEGIN_REQUEST, 1, encodeBeginRequestBody({ role: FCGI_RESPONDER, flags: FCGI_KEEP_CONN }))],
    ['FCGI_BEGIN_REQUEST id=2 len=8 pad=0 version=2 reserved=0x07 role 9 flags=0x80 bodyReserved=2000000000', record(FCGI_BEGIN_REQUEST, 2, encodeBeginRequestBody({ role: 9, flags: 0x80, reserved: Uint8Array.of(0x20) }), { version: 2, reserved: 7 })],
    ['FCGI_END_REQUEST id=1 len=8 pad=0 appStatus=938 FCGI_OVERLOADED', record(FCGI_END_REQUEST, 1, encodeEndRequestBody({ appStatus: 938, protocolStatus: 2 }), { paddingLength: 0 })],
    ['FCGI_END_REQUEST id=1 len=8 pad=0 appStatus=0 status 9', record(FCGI_END_REQUEST, 1, encodeEndRequestBody({ appStatus: 0, protocolStatus: 9 }))],
    ['FCGI_UNKNOWN_TYPE id=0 len=8 pad=0 type=42', record(FCGI_UNKNOWN_TYPE, 0, encodeUnknownTypeBody({ type: 42 }))],
    ['FCGI_ABORT_REQUEST id=3 len=0 pad=0', record(FCGI_ABORT_REQUEST, 3, new Uint8Array(0))],
    ['FCGI_PARAMS id=1 len=23 pad=5 2 pair(s): SCRIPT_NAME=/x Q=a\\r\\n\\x00\\"', record(FCGI_PARAMS, 1, encodeNameValuePairs({ SCRIPT_NAME: '/x', Q: 'a\r\n\x00"' }), { paddingLength: 5 })],
    ['FCGI_PARAMS id=1 len=4 pad=0 0 pair(s) +4 byte(s) not a whole pair', record(FCGI_PARAMS, 1, Uint8Array.of(4, 10, 65, 66))],
    ['FCGI_GET_VALUES id=0 len=16 pad=0 1 pair(s): FCGI_MAX_CONNS=', record(FCGI_GET_VALUES, 0, encodeNameValuePairs({ FCGI_MAX_CONNS: '' }))],
    ['FCGI_STDOUT id=1 len=13 pad=0 "Status: 200\\r\\n"', record(FCGI_STDOUT, 1, text('Status: 200\r\n'))],
    ['FCGI_STDIN id=1 len=0 pad=0 end of stream', record(FCGI_STDIN, 1, new Uint8Array(0))],
    ['type 200 id=0 len=0 pad=0', record(200, 0, new Uint8Array(0))],
    ['type 13 id=1 len=2 pad=0 "\\xffA"', record(13, 1, Uint8Array.of(0xff, 0x41))],
  ])('%s', (line, r) => {
    expect(describeRecord(r)).toBe(line);
  });

  it('truncates long stream text and long pair lists to about 120 characters', () => {
    const stdout = describeRecord(record(FCGI_STDOUT, 1, text('x'.repeat(1000))));
    expect(stdout).toMatch(/"x{120}…"$/);
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`NAME_${i}`, 'v'.repeat(i)]));
    const params = describeRecord(record(FCGI_PARAMS, 1, encodeNameValuePairs(many)));
    expect(params).toMatch(/^FCGI_PARAMS id=1 len=\d+ pad=0 40 pair\(s\): NAME_0= NAME_1=v .*…$/);
    expect(params.length).toBeLessThan(200);
  });

  it('is one bounded line for any record, however malformed', () => {
    fc.assert(
      fc.property(fc.nat(255), fc.nat(255), fc.nat(65535), fc.uint8Array({ maxLength: 2000 }), fc.nat(255), fc.nat(255), (version, type, requestId, content, paddingLength, reserved) => {
        const line = describeRecord({ version, type, requestId, content, paddingLength, reserved });
        expect(line).not.toMatch(/[\r\n]/);
        // Header words, then at most ~120 characters of names and values each escaped 4x at worst, then a tail.
        expect(line.length).toBeLessThan(100 + 2 * 4 * DESCRIBE_MAX_CHARS);
      }),
      { seed, numRuns: 300 },
    );
  });
});

describe('escapeBytes', () => {
  it('keeps printable ASCII, escapes the rest, and cuts at the limit', () => {
    expect(escapeBytes(Uint8Array.of(0x41, 0x5c, 0x22, 0x09, 0x00, 0x7f, 0xc3, 0xa9))).toBe('A\\\\\\"\\t\\x00\\x7f\\xc3\\xa9');
    expect(escapeBytes(text('abcdef'), 3)).toBe('abc…');
  });
});
