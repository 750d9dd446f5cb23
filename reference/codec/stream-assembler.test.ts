import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FCGI_ABORT_REQUEST,
  FCGI_BEGIN_REQUEST,
  FCGI_DATA,
  FCGI_END_REQUEST,
  FCGI_FILTER,
  FCGI_GET_VALUES,
  FCGI_GET_VALUES_RESULT,
  FCGI_KEEP_CONN,
  FCGI_MAX_NAME_VALUE_LENGTH,
  FCGI_PARAMS,
  FCGI_REQUEST_COMPLETE,
  FCGI_RESPONDER,
  FCGI_STDERR,
  FCGI_STDIN,
  FCGI_STDOUT,
  FCGI_UNKNOWN_TYPE,
} from '../../spec/constants.ts';
import { encodeBeginRequestBody, encodeEndRequestBody, encodeUnknownTypeBody } from './bodies.ts';
import { encodeLength, encodeNameValuePairs, type NameValuePair } from './name-value.ts';
import { concatBytes, encodeRecord, encodeStream, RecordDecoder, type DecodedRecord, type RecordInit } from './record.ts';
import { assembleRecords, collectRequests, RequestCollector, StreamAssembler, type AssemblerEvent } from './stream-assembler.ts';

const seed = 0x0fca5;

const latin1 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const normPairs = (pairs: readonly NameValuePair[]) => pairs.map((p) => [latin1(p.name), latin1(p.value)]);

function decodeAll(bytes: Uint8Array): DecodedRecord[] {
  const decoder = new RecordDecoder();
  const records = decoder.push(bytes);
  expect(decoder.pendingBytes).toBe(0);
  return records;
}
const rec = (init: RecordInit): Uint8Array => encodeRecord(init);
const begin = (requestId: number, role = FCGI_RESPONDER, flags = 0): Uint8Array =>
  rec({ type: FCGI_BEGIN_REQUEST, requestId, content: encodeBeginRequestBody({ role, flags }) });
const end = (requestId: number, appStatus = 0, protocolStatus = FCGI_REQUEST_COMPLETE): Uint8Array =>
  rec({ type: FCGI_END_REQUEST, requestId, content: encodeEndRequestBody({ appStatus, protocolStatus }) });

// Cuts `data` into records of `type` at the given offsets (empty pieces skipped), then the empty record.
function streamAt(type: number, requestId: number, data: Uint8Array, cuts: readonly number[], paddings: readonly number[] = []): Uint8Array {
  const parts: Uint8Array[] = [];
  let at = 0;
  let i = 0;
  for (const cut of [...cuts, data.length]) {
    if (cut > at) parts.push(rec({ type, requestId, content: data.subarray(at, cut), paddingLength: paddings[i++ % Math.max(1, paddings.length)] ?? 0 }));
    at = Math.max(at, cut);
  }
  parts.push(rec({ type, requestId, paddingLength: paddings[0] ?? 0 }));
  return concatBytes(parts);
}

const kinds = (events: readonly AssemblerEvent[]) => events.map((e) => (e.kind === 'stream-data' || e.kind === 'stream-end' ? `${e.kind}:${e.stream}` : e.kind));

describe('StreamAssembler', () => {
  it('turns a whole request exchange into events, in order', () => {
    const bytes = concatBytes([
      rec({ type: FCGI_GET_VALUES, requestId: 0, content: encodeNameValuePairs({ FCGI_MPXS_CONNS: '' }) }),
      begin(1, FCGI_RESPONDER, FCGI_KEEP_CONN),
      encodeStream(FCGI_PARAMS, 1, encodeNameValuePairs({ SCRIPT_NAME: '/x', QUERY_STRING: 'a=1' })),
      encodeStream(FCGI_STDIN, 1, text('body')),
      encodeStream(FCGI_STDOUT, 1, text('Status: 200\r\n\r\nok')),
      rec({ type: FCGI_ABORT_REQUEST, requestId: 1 }),
      end(1, 7),
      rec({ type: 42, requestId: 1 }),
      rec({ type: FCGI_UNKNOWN_TYPE, requestId: 0, content: encodeUnknownTypeBody({ type: 42 }) }),
      rec({ type: FCGI_GET_VALUES_RESULT, requestId: 0, content: encodeNameValuePairs({ FCGI_MPXS_CONNS: '0' }) }),
      rec({ type: 200, requestId: 0 }),
    ]);
    const events = assembleRecords(decodeAll(bytes));
    expect(kinds(events)).toEqual([
      'management',
      'begin',
      'params',
      'stream-end:params',
      'stream-data:stdin',
      'stream-end:stdin',
      'stream-data:stdout',
      'stream-end:stdout',
      'abort',
      'end-request',
      'unknown',
      'management',
      'management',
      'management',
    ]);
    const [getValues, beginEvent, params] = events;
    expect(getValues).toMatchObject({ kind: 'management', message: { kind: 'get-values' } });
    if (getValues?.kind === 'management' && getValues.message.kind === 'get-values') expect(normPairs(getValues.message.pairs)).toEqual([['FCGI_MPXS_CONNS', '']]);
    expect(beginEvent).toMatchObject({ kind: 'begin', requestId: 1, body: { role: FCGI_RESPONDER, flags: FCGI_KEEP_CONN, length: 8 } });
    if (params?.kind === 'params') expect(normPairs(params.pairs)).toEqual([
      ['SCRIPT_NAME', '/x'],
      ['QUERY_STRING', 'a=1'],
    ]);
    expect(events[9]).toMatchObject({ kind: 'end-request', requestId: 1, body: { appStatus: 7, protocolStatus: FCGI_REQUEST_COMPLETE } });
    expect(events[11]).toMatchObject({ message: { kind: 'unknown-type', body: { type: 42 } } });
    expect(events[12]).toMatchObject({ message: { kind: 'get-values-result' } });
    expect(events[13]).toMatchObject({ message: { kind: 'other' } });
  });

  it('hands stream data over as the record content itself (a view, no copy)', () => {
    const bytes = encodeStream(FCGI_STDOUT, 1, text('hello'));
    const [data] = assembleRecords(decodeAll(bytes));
    expect(data?.kind).toBe('stream-data');
    if (data?.kind !== 'stream-data') return;
    expect(data.bytes).toBe(data.record.content);
    expect(data.bytes.buffer).toBe(bytes.buffer);
  });

  it('gives the same params and stdin however records and chunks are cut', () => {
    const pairArb = fc.tuple(
      fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('X'.repeat(127), 'Y'.repeat(128), 'Z'.repeat(300))),
      fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('v'.repeat(127), 'w'.repeat(128), 'u'.repeat(5000))),
    );
    const arb = fc
      .record({ pairs: fc.array(pairArb, { maxLength: 8 }), stdin: fc.uint8Array({ maxLength: 3000 }), paddings: fc.array(fc.nat(255), { maxLength: 4 }) })
      .chain(({ pairs, stdin, paddings }) => {
        const params = encodeNameValuePairs(pairs);
        const cutsOf = (n: number) => fc.uniqueArray(fc.integer({ min: 0, max: n }), { maxLength: 20 }).map((c) => c.sort((a, b) => a - b));
        return fc
          .tuple(cutsOf(params.length), cutsOf(stdin.length))
          .chain(([paramsCuts, stdinCuts]) => {
            const bytes = concatBytes([begin(1), streamAt(FCGI_PARAMS, 1, params, paramsCuts, paddings), streamAt(FCGI_STDIN, 1, stdin, stdinCuts, paddings)]);
            return fc.tuple(fc.constant({ pairs, stdin, bytes }), cutsOf(bytes.length));
          });
      });
    fc.assert(
      fc.property(arb, ([{ pairs, stdin, bytes }, chunkCuts]) => {
        const decoder = new RecordDecoder();
        const collector = new RequestCollector();
        let at = 0;
        for (const cut of [...chunkCuts, bytes.length]) {
          for (const record of decoder.push(bytes.subarray(at, cut))) collector.push(record);
          at = cut;
        }
        collector.end();
        const { requests } = collector.result();
        expect(requests.length).toBe(1);
        const [request] = requests;
        expect(normPairs(request!.params)).toEqual(pairs.map(([n, v]) => [latin1(text(n)), latin1(text(v))]));
        expect(latin1(request!.stdin)).toBe(latin1(stdin));
        expect(request!.terminated).toMatchObject({ params: true, stdin: true });
        expect(request!.paramsError).toBeUndefined();
      }),
      { seed, numRuns: 150 },
    );
  });

  it('reports a pair cut short by the PARAMS terminator as params-error', () => {
    const params = encodeNameValuePairs({ NAME: 'value' }).subarray(0, 8);
    const events = assembleRecords(decodeAll(concatBytes([begin(1), streamAt(FCGI_PARAMS, 1, params, [3])])));
    expect(kinds(events)).toEqual(['begin', 'params-error', 'stream-end:params']);
    expect(events[1]).toMatchObject({ kind: 'params-error', requestId: 1, error: { kind: 'truncated', offset: 0 } });
  });

  it('reports an unfinished pair at the end of input from end()', () => {
    const assembler = new StreamAssembler();
    for (const r of decodeAll(concatBytes([begin(3), rec({ type: FCGI_PARAMS, requestId: 3, content: Uint8Array.of(4, 10, 65) })]))) assembler.push(r);
    expect(assembler.end()).toEqual([{ kind: 'params-error', requestId: 3, error: { kind: 'truncated', offset: 0, missing: 13 } }]);
    expect(assembler.openRequestIds).toEqual([]);
  });

  it('keeps requests apart by id, and starts over when an id is begun again', () => {
    const bytes = concatBytes([
      begin(1),
      begin(2),
      encodeStream(FCGI_STDOUT, 2, text('two')),
      encodeStream(FCGI_STDOUT, 1, text('one')),
      end(1),
      end(2),
      begin(1, FCGI_FILTER),
      encodeStream(FCGI_DATA, 1, text('file')),
      encodeStream(FCGI_STDERR, 1, text('oops'), { terminate: false }),
    ]);
    const { requests } = collectRequests(decodeAll(bytes));
    expect(requests.map((r) => [r.requestId, r.role, latin1(r.stdout), latin1(r.data), latin1(r.stderr), r.end !== undefined])).toEqual([
      [1, FCGI_RESPONDER, 'one', '', '', true],
      [2, FCGI_RESPONDER, 'two', '', '', true],
      [1, FCGI_FILTER, '', 'file', 'oops', false],
    ]);
    expect(requests[2]!.terminated).toEqual({ params: false, stdin: false, data: true, stdout: false, stderr: false });
  });

  it('collects records that come without a BEGIN_REQUEST too, without a role', () => {
    const { requests, unknown } = collectRequests(decodeAll(concatBytes([encodeStream(FCGI_STDIN, 9, text('x')), rec({ type: FCGI_ABORT_REQUEST, requestId: 9 }), rec({ type: 99, requestId: 9 })])));
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ requestId: 9, aborted: true, terminated: { stdin: true } });
    expect(requests[0]!.role).toBeUndefined();
    expect(unknown.map((r) => r.type)).toEqual([99]);
  });
});

describe('limits', () => {
  it('a declared pair length of 0x7fffffff is a limit event at once, not an allocation', () => {
    const content = concatBytes([encodeLength(FCGI_MAX_NAME_VALUE_LENGTH, 4), encodeLength(0), new Uint8Array(100)]);
    const events = assembleRecords(decodeAll(concatBytes([begin(1), rec({ type: FCGI_PARAMS, requestId: 1, content }), rec({ type: FCGI_PARAMS, requestId: 1 })])));
    expect(kinds(events)).toEqual(['begin', 'limit', 'stream-end:params']);
    expect(events[1]).toMatchObject({ kind: 'limit', limit: 'pair-length', stream: 'params', error: { kind: 'pair-too-long', declared: FCGI_MAX_NAME_VALUE_LENGTH } });
  });

  it('stops parsing params past maxParamsBytes with a limit event and ignores the rest of the stream', () => {
    const params = encodeNameValuePairs({ A: 'x'.repeat(100), B: 'y'.repeat(100) });
    const events = assembleRecords(decodeAll(concatBytes([begin(1), encodeStream(FCGI_PARAMS, 1, params, { maxContent: 60 })])), { maxParamsBytes: 150 });
    expect(kinds(events)).toEqual(['begin', 'params', 'limit', 'stream-end:params']);
    expect(events[2]).toMatchObject({ limit: 'params-bytes', requestId: 1 });
  });

  it('maps the parser limits on pair count and total size to limit events', () => {
    const params = encodeNameValuePairs({ A: '1', B: '2', C: '3' });
    const byCount = assembleRecords(decodeAll(concatBytes([begin(1), encodeStream(FCGI_PARAMS, 1, params)])), { maxPairs: 2 });
    expect(byCount.find((e) => e.kind === 'limit')).toMatchObject({ limit: 'pairs' });
    const bySize = assembleRecords(decodeAll(concatBytes([begin(1), encodeStream(FCGI_PARAMS, 1, params)])), { maxTotalBytes: 3 });
    expect(bySize.find((e) => e.kind === 'limit')).toMatchObject({ limit: 'pair-bytes' });
  });

  it('reports maxStreamBytes once; the collector keeps that many bytes and marks the stream truncated', () => {
    const data = new Uint8Array(1000).map((_, i) => i & 0xff);
    const records = decodeAll(concatBytes([begin(1), encodeStream(FCGI_STDOUT, 1, data, { maxContent: 100 })]));
    const events = assembleRecords(records, { maxStreamBytes: 250 });
    expect(events.filter((e) => e.kind === 'limit')).toMatchObject([{ limit: 'stream-bytes', stream: 'stdout', requestId: 1 }]);
    expect(events.filter((e) => e.kind === 'stream-data')).toHaveLength(10);
    const [request] = collectRequests(records, { maxStreamBytes: 250 }).requests;
    expect(latin1(request!.stdout)).toBe(latin1(data.subarray(0, 250)));
    expect(request!.streamBytes.stdout).toBe(1000);
    expect(request!.truncated).toEqual({ stdin: false, data: false, stdout: true, stderr: false });
    expect(request!.limits).toHaveLength(1);
  });

  it('never throws on arbitrary records, and holds no more params bytes than the limit', () => {
    const recordArb = fc.record({
      type: fc.oneof(fc.integer({ min: 1, max: 11 }), fc.nat(255)),
      requestId: fc.oneof(fc.constantFrom(0, 1, 2), fc.nat(65535)),
      content: fc.uint8Array({ maxLength: 64 }),
    });
    fc.assert(
      fc.property(fc.array(recordArb, { maxLength: 40 }), (inits) => {
        const records = decodeAll(concatBytes(inits.map((r) => rec(r))));
        const events = assembleRecords(records, { maxParamsBytes: 100, maxPairLength: 50 });
        const collected = collectRequests(records, { maxParamsBytes: 100, maxStreamBytes: 30 });
        expect(events.length).toBeGreaterThanOrEqual(records.length);
        for (const r of collected.requests) {
          for (const s of ['stdin', 'data', 'stdout', 'stderr'] as const) expect(r[s].length).toBeLessThanOrEqual(30);
          expect(r.params.reduce((n, p) => n + p.name.length + p.value.length, 0)).toBeLessThanOrEqual(100);
        }
      }),
      { seed, numRuns: 300 },
    );
  });
});
