import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildTranscript, describe as describeRecordFor, summarizeBody, toHex } from './transcript.ts';
import type { TranscriptEntry } from '../reference/client/raw-connection.ts';
import { concatBytes, decodeRecord, encodeRecord, encodeStream } from '../reference/codec/record.ts';
import { encodeBeginRequestBody, encodeEndRequestBody } from '../reference/codec/bodies.ts';
import { encodeNameValuePairs } from '../reference/codec/name-value.ts';
import { FCGI_BEGIN_REQUEST, FCGI_END_REQUEST, FCGI_PARAMS, FCGI_STDOUT } from '../spec/constants.ts';
import { failingTranscriptEntries } from './__fixtures__/report.ts';

const seed = 4242;

const beginBytes = encodeRecord({ type: FCGI_BEGIN_REQUEST, requestId: 1, content: encodeBeginRequestBody({ role: 1, flags: 1 }) });
const endBytes = encodeRecord({ type: FCGI_END_REQUEST, requestId: 1, content: encodeEndRequestBody({ appStatus: 0, protocolStatus: 0 }) });
const stdoutBytes = encodeStream(FCGI_STDOUT, 1, new TextEncoder().encode('Status: 200\r\n\r\nhi'));

describe('buildTranscript', () => {
  it('decodes records per connection and direction, attaching each to the line where it completed', () => {
    const reply = concatBytes([stdoutBytes, endBytes]);
    const t = buildTranscript([
      {
        entries: [
          { dir: 'sent', atMs: 1, bytes: beginBytes.subarray(0, 5) },
          { dir: 'received', atMs: 2, bytes: reply.subarray(0, 10) },
          { dir: 'sent', atMs: 3, bytes: beginBytes.subarray(5) },
          { dir: 'received', atMs: 4, bytes: reply.subarray(10) },
          { dir: 'closed', atMs: 5, how: 'end', detail: '3 bytes of an unfinished record' },
        ],
      },
    ]);
    expect(t.lines.map((l) => [l.dir, l.records?.map((r) => r.typeName) ?? l.text])).toEqual([
      ['sent', undefined],
      ['received', undefined],
      ['sent', ['FCGI_BEGIN_REQUEST']],
      ['received', ['FCGI_STDOUT', 'FCGI_STDOUT', 'FCGI_END_REQUEST']],
      ['closed', 'peer closed (FIN): 3 bytes of an unfinished record'],
    ]);
    expect(t.lines[2]!.records![0]).toEqual({
      type: FCGI_BEGIN_REQUEST,
      typeName: 'FCGI_BEGIN_REQUEST',
      requestId: 1,
      version: 1,
      contentLength: 8,
      paddingLength: 0,
      reserved: 0,
      summary: 'FCGI_RESPONDER flags=FCGI_KEEP_CONN',
    });
    expect(t.lines[0]).toMatchObject({ hex: toHex(beginBytes.subarray(0, 5)), byteLength: 5 });
    expect(t.omittedBytes).toBe(0);
  });

  it('merges connections by time, offsetting each by when it opened, keeping each connection in order', () => {
    const t = buildTranscript([
      { entries: [{ dir: 'sent', atMs: 1, bytes: beginBytes }, { dir: 'note', atMs: 10, text: 'late' }] },
      { openedAtMs: 2, entries: [{ dir: 'sent', atMs: 0, bytes: beginBytes }, { dir: 'note', atMs: 0, text: 'same time' }] },
    ]);
    expect(t.lines.map((l) => [l.conn, l.atMs, l.dir])).toEqual([
      [0, 1, 'sent'],
      [1, 2, 'sent'],
      [1, 2, 'note'],
      [0, 10, 'note'],
    ]);
  });

  it('caps hex per line and per connection, counting what it leaves out, and states the caps', () => {
    const big = new Uint8Array(100).fill(0x41);
    const t = buildTranscript(
      [{ entries: [{ dir: 'sent', atMs: 0, bytes: big }, { dir: 'sent', atMs: 1, bytes: big }, { dir: 'sent', atMs: 2, bytes: big }], omittedBytes: 7 }],
      { bytesPerLine: 60, bytesPerConnection: 100 },
    );
    expect(t.lines.map((l) => l.hex?.length ?? 0)).toEqual([120, 80, 0]);
    expect(t.lines.map((l) => l.byteLength)).toEqual([100, 100, 100]);
    expect(t.omittedBytes).toBe(40 + 60 + 100 + 7);
    expect(t.cap).toEqual({ bytesPerConnection: 100, bytesPerLine: 60, lines: 300 });
  });

  it('caps the lines, keeping the head and the tail around a line that says what was left out', () => {
    const entries: TranscriptEntry[] = Array.from({ length: 50 }, (_, i) => ({ dir: 'sent', atMs: i, bytes: Uint8Array.of(i) }));
    const t = buildTranscript([{ entries }], { lines: 11 });
    expect(t.lines).toHaveLength(11);
    // 3/4 of the room for the head, the rest for the tail; the gap line sits at the first left-out time.
    expect(t.lines.map((l) => l.atMs)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 48, 49]);
    const gap = t.lines[8]!;
    expect(gap.dir).toBe('note');
    expect(gap.text).toBe('40 lines left out (cap 11 lines)');
    expect(t.omittedBytes).toBe(40);
  });

  it('caps decoded records per line and says how many more there were', () => {
    const many = concatBytes(Array.from({ length: 40 }, () => encodeRecord({ type: FCGI_STDOUT, requestId: 1 })));
    const t = buildTranscript([{ entries: [{ dir: 'received', atMs: 0, bytes: many }] }], { recordsPerLine: 5 });
    expect(t.lines[0]!.records).toHaveLength(5);
    expect(t.lines[0]!.text).toBe('… and 35 more records (cap 5 per line)');
  });

  it('accounts for every byte and never throws, however hostile or split the traffic (fast-check seed 4242)', () => {
    const entryArb: fc.Arbitrary<TranscriptEntry> = fc.oneof(
      fc.record({ dir: fc.constantFrom('sent' as const, 'received' as const), atMs: fc.nat(1000), bytes: fc.uint8Array({ maxLength: 600 }) }),
      fc.record({ dir: fc.constant('note' as const), atMs: fc.nat(1000), text: fc.string() }),
      fc.record({ dir: fc.constant('closed' as const), atMs: fc.nat(1000), how: fc.constantFrom('end' as const, 'reset' as const, 'local' as const) }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.array(entryArb, { maxLength: 30 }), { minLength: 1, maxLength: 3 }),
        fc.record({ bytesPerLine: fc.integer({ min: 0, max: 300 }), bytesPerConnection: fc.integer({ min: 0, max: 2000 }), lines: fc.integer({ min: 2, max: 40 }) }),
        (conns, caps) => {
          const t = buildTranscript(conns.map((entries) => ({ entries })), caps);
          const total = conns.flat().reduce((n, e) => n + ('bytes' in e ? e.bytes.length : 0), 0);
          const kept = t.lines.reduce((n, l) => n + (l.hex?.length ?? 0) / 2, 0);
          expect(kept + t.omittedBytes).toBe(total);
          expect(t.lines.length).toBeLessThanOrEqual(caps.lines);
          for (const l of t.lines) expect((l.hex?.length ?? 0) / 2).toBeLessThanOrEqual(caps.bytesPerLine);
          for (let i = 1; i < t.lines.length; i++) expect(t.lines[i]!.atMs).toBeGreaterThanOrEqual(t.lines[i - 1]!.atMs);
        },
      ),
      { seed, numRuns: 200 },
    );
  });

  it('reads the fixture transcript as a person would', () => {
    const t = buildTranscript([{ entries: failingTranscriptEntries() }]);
    expect(t.lines.flatMap((l) => l.records ?? []).map((r) => `${r.typeName} ${r.summary}`)).toEqual([
      'FCGI_BEGIN_REQUEST FCGI_RESPONDER flags=0',
      'FCGI_PARAMS 2 pair(s): SCRIPT_FILENAME=/srv/app/index.php REQUEST_METHOD=GET',
      'FCGI_PARAMS end of stream',
      'FCGI_STDIN end of stream',
      'FCGI_STDERR "PHP Warning: <b>padding</b> not understood\\n"',
      'FCGI_STDERR end of stream',
      'FCGI_STDOUT end of stream',
      'FCGI_END_REQUEST appStatus=255 FCGI_REQUEST_COMPLETE',
    ]);
  });
});

describe('record summaries', () => {
  it('keep only the body part of the describer line', () => {
    const params = decodeRecord(encodeRecord({ type: FCGI_PARAMS, requestId: 3, version: 2, reserved: 9, content: encodeNameValuePairs({ A: 'b' }) }));
    if (params.kind !== 'record') throw new Error('unreachable');
    expect(summarizeBody(params.record)).toBe('1 pair(s): A=b');
    expect(describeRecordFor(params.record)).toMatchObject({ version: 2, reserved: 9, requestId: 3 });
    const abort = decodeRecord(encodeRecord({ type: 2, requestId: 1 }));
    if (abort.kind !== 'record') throw new Error('unreachable');
    expect(summarizeBody(abort.record)).toBe('');
  });
});
