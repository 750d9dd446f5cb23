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
  FCGI_HEADER_LEN,
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
import { concatBytes, encodeRecord, encodeStream, FCGI_MAX_RECORD_LENGTH, RecordDecoder, type DecodedRecord, type RecordInit } from './record.ts';
import {
  assembleRecords,
  collectRequests,
  RequestCollector,
  StreamAssembler,
  streamOfType,
  type AssemblerEvent,
  type AssemblerEventOf,
  type ByteAssemblerEvent,
} from './stream-assembler.ts';

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

describe('StreamAssembler.pushBytes', () => {
  const patterned = (length: number, salt: number): Uint8Array => {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = (i * 7 + salt) & 0xff;
    return out;
  };
  // Every record type the assembler tells apart, on the null id too, with any content (the assembler is lenient).
  const recordArb = fc.record({
    type: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(FCGI_STDOUT, FCGI_STDERR, FCGI_STDIN, FCGI_DATA, FCGI_PARAMS) }, fc.integer({ min: 1, max: 11 }), fc.nat(255)),
    requestId: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(1, 2) }, fc.constant(0), fc.nat(65535)),
    content: fc.oneof(
      { weight: 4, arbitrary: fc.uint8Array({ maxLength: 40 }) },
      { weight: 1, arbitrary: fc.constant(new Uint8Array(0)) },
      { weight: 1, arbitrary: fc.constantFrom(encodeBeginRequestBody({ role: FCGI_RESPONDER, flags: 1 }), encodeNameValuePairs({ A: '1', SCRIPT_NAME: '/x' })) },
      { weight: 2, arbitrary: fc.tuple(fc.integer({ min: 0, max: 65535 }), fc.nat(255)).map(([n, s]) => patterned(n, s)) },
    ),
    paddingLength: fc.oneof(fc.nat(255), fc.constant(0)),
    paddingByte: fc.integer({ min: 1, max: 255 }), // not 0: padding gathered into the wrong place shows
  });
  const limitsArb = fc.record({
    maxStreamBytes: fc.oneof(fc.constant(Number.POSITIVE_INFINITY), fc.nat(70000)),
    maxParamsBytes: fc.oneof(fc.constant(64 * 1024 * 1024), fc.nat(100)),
  });
  const cutsOf = (n: number) => fc.uniqueArray(fc.integer({ min: 0, max: n }), { maxLength: 30 }).map((c) => c.sort((a, b) => a - b));
  // Records, then (sometimes) garbage that may leave a record unfinished, cut anywhere.
  const inputArb = fc
    .tuple(fc.array(recordArb, { maxLength: 10 }), fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ maxLength: 40 })))
    .chain(([records, tail]) => {
      const bytes = concatBytes([...records.map((r) => encodeRecord(r, { paddingByte: r.paddingByte })), tail]);
      return fc.tuple(fc.constant(bytes), cutsOf(bytes.length), limitsArb);
    });

  function chunksOf(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
    const out: Uint8Array[] = [];
    let at = 0;
    for (const cut of [...cuts, bytes.length]) {
      out.push(bytes.subarray(at, cut));
      at = cut;
    }
    return out;
  }

  // Comparable plain data: bytes as latin1 strings, no record on a stream-bytes limit (pushBytes has none to give).
  function plain(x: unknown): unknown {
    if (x instanceof Uint8Array) return latin1(x);
    if (Array.isArray(x)) return x.map(plain);
    if (x !== null && typeof x === 'object') {
      const isStreamLimit = (x as { kind?: unknown }).kind === 'limit' && (x as { limit?: unknown }).limit === 'stream-bytes';
      return Object.fromEntries(Object.entries(x).filter(([k]) => !(isStreamLimit && k === 'record')).map(([k, v]) => [k, plain(v)]));
    }
    return x;
  }

  type Plain = { kind: string; [k: string]: unknown };
  // Record path: one stream-data per record.
  function fromRecords(events: readonly AssemblerEvent[]): Plain[] {
    return events.map((e) =>
      e.kind === 'stream-data' ? { kind: e.kind, requestId: e.requestId, stream: e.stream, offset: e.record.offset, bytes: latin1(e.bytes) } : (plain(e) as Plain),
    );
  }
  // Byte path: a record's fragments joined (checking they are contiguous and agree); a stream-bytes limit reached
  // inside a record moved after that record's data, where the record path reports it.
  function fromBytes(events: readonly (ByteAssemblerEvent | AssemblerEvent)[]): Plain[] {
    const out: Plain[] = [];
    let open: { kind: 'stream-data'; requestId: number; stream: string; offset: number; bytes: string } | undefined;
    let deferred: Plain[] = [];
    const flush = (): void => {
      out.push(...deferred);
      deferred = [];
    };
    for (const e of events) {
      if (e.kind === 'stream-data') {
        if (!('header' in e)) throw new Error('pushBytes gave stream data of a whole record');
        expect(e.requestId).toBe(e.header.requestId);
        expect(streamOfType[e.header.type]).toBe(e.stream);
        if (open !== undefined && open.offset === e.offset) {
          expect(e.at).toBe(open.bytes.length);
          open.bytes += latin1(e.bytes);
          continue;
        }
        expect(e.at).toBe(0);
        flush();
        open = { kind: 'stream-data', requestId: e.requestId, stream: e.stream, offset: e.offset, bytes: latin1(e.bytes) };
        out.push(open);
        continue;
      }
      if (e.kind === 'limit' && e.limit === 'stream-bytes' && open !== undefined) {
        deferred.push(plain(e) as Plain);
        continue;
      }
      flush();
      open = undefined;
      out.push(plain(e) as Plain);
    }
    flush();
    return out;
  }

  it('gives the events of decoder.push + assembler.push, stream data in as many pieces as the chunks make', () => {
    fc.assert(
      fc.property(inputArb, ([bytes, cuts, limits]) => {
        const chunks = chunksOf(bytes, cuts);
        const decoder = new RecordDecoder();
        const assembler = new StreamAssembler(limits);
        const viaRecords: AssemblerEvent[] = [];
        for (const chunk of chunks) for (const record of decoder.push(chunk)) viaRecords.push(...assembler.push(record));
        const tailOffset = decoder.bytesFed - decoder.pendingBytes;
        viaRecords.push(...assembler.end());

        const byBytes = new StreamAssembler(limits);
        const viaBytes: (ByteAssemblerEvent | AssemblerEvent)[] = [];
        for (const chunk of chunks) {
          for (const e of byBytes.pushBytes(chunk)) {
            // Stream data are views of the chunk just fed.
            if (e.kind === 'stream-data') expect(e.bytes.buffer === chunk.buffer && e.bytes.byteOffset >= chunk.byteOffset).toBe(true);
            viaBytes.push(e);
          }
        }
        expect(byBytes.pendingBytes).toBe(decoder.pendingBytes);
        viaBytes.push(...byBytes.end());

        const got = fromBytes(viaBytes);
        // Only stream data of the unfinished record (and the limit they reached) may come early: a prefix of its content.
        const early = got.findIndex((e) => e.kind === 'stream-data' && e.offset === tailOffset);
        if (early >= 0) {
          const [data, next] = [got[early]!, got[early + 1]];
          expect(decoder.pendingBytes).toBeGreaterThan(FCGI_HEADER_LEN);
          expect(latin1(bytes.subarray(tailOffset + FCGI_HEADER_LEN)).startsWith(data.bytes as string)).toBe(true);
          got.splice(early, next?.kind === 'limit' && next.limit === 'stream-bytes' ? 2 : 1);
        }
        expect(got).toEqual(fromRecords(viaRecords));
      }),
      { seed, numRuns: 300 },
    );
  });

  it('RequestCollector.pushBytes gathers what push gathers', () => {
    fc.assert(
      fc.property(inputArb, ([bytes, cuts, limits]) => {
        const decoder = new RecordDecoder();
        const viaRecords = new RequestCollector(limits);
        const viaBytes = new RequestCollector(limits);
        for (const chunk of chunksOf(bytes, cuts)) {
          for (const record of decoder.push(chunk)) viaRecords.push(record);
          viaBytes.pushBytes(chunk);
        }
        fc.pre(decoder.pendingBytes <= FCGI_HEADER_LEN); // else the byte path has seen data the record path has not
        viaRecords.end();
        viaBytes.end();
        expect(plain(viaBytes.result())).toEqual(plain(viaRecords.result()));
      }),
      { seed, numRuns: 150 },
    );
  });

  it('hands out a 64 KiB-chunked STDOUT stream as views of the chunks, with no copy', () => {
    const data = patterned(4 * 65535 + 100, 1);
    const bytes = concatBytes([begin(1), encodeStream(FCGI_STDOUT, 1, data), end(1)]);
    const assembler = new StreamAssembler();
    const chunkSize = 64 * 1024;
    const parts: Uint8Array[] = [];
    const kinds: string[] = [];
    for (let at = 0; at < bytes.length; at += chunkSize) {
      const chunk = Buffer.from(bytes.subarray(at, at + chunkSize)); // a socket read: a Buffer of its own
      for (const e of assembler.pushBytes(chunk)) {
        kinds.push(e.kind);
        if (e.kind !== 'stream-data') continue;
        expect(e.bytes.buffer).toBe(chunk.buffer);
        expect(e.bytes.byteOffset).toBeGreaterThanOrEqual(chunk.byteOffset);
        parts.push(e.bytes);
      }
    }
    expect(latin1(concatBytes(parts))).toBe(latin1(data));
    expect(parts.length).toBeGreaterThan(5); // records cut by chunks come in pieces
    expect(kinds.filter((k) => k !== 'stream-data')).toEqual(['begin', 'stream-end', 'end-request']);
    expect(assembler.pendingBytes).toBe(0);
  });

  it('hands stream bytes out as they arrive, however small the reads', () => {
    const assembler = new StreamAssembler();
    const bytes = rec({ type: FCGI_STDIN, requestId: 5, content: patterned(300, 2), paddingLength: 4 });
    const got: string[] = [];
    for (let i = 0; i < bytes.length; i++) {
      const events = assembler.pushBytes(bytes.subarray(i, i + 1));
      got.push(events.map((e) => (e.kind === 'stream-data' ? `${e.at}:${e.bytes[0]}` : e.kind)).join());
    }
    const content = patterned(300, 2);
    expect(got).toEqual([...Array<string>(FCGI_HEADER_LEN + 300 + 4).fill('')].map((_, i) => (i >= FCGI_HEADER_LEN && i < FCGI_HEADER_LEN + 300 ? `${i - FCGI_HEADER_LEN}:${content[i - FCGI_HEADER_LEN]}` : '')));
  });

  it('gathers a record cut across chunks into one buffer of the input kind, and builds whole ones from views', () => {
    const body = encodeBeginRequestBody({ role: FCGI_FILTER, flags: 0 });
    const bytes = concatBytes([begin(7, FCGI_FILTER), rec({ type: FCGI_BEGIN_REQUEST, requestId: 8, content: body, paddingLength: 3 })]);
    const assembler = new StreamAssembler();
    const first = Buffer.from(bytes.subarray(0, 20));
    const events = [...assembler.pushBytes(first), ...assembler.pushBytes(Buffer.from(bytes.subarray(20)))];
    expect(events.map((e) => [e.kind, e.kind === 'begin' ? e.requestId : 0])).toEqual([
      ['begin', 7],
      ['begin', 8],
    ]);
    const [whole, cut] = events as AssemblerEventOf<'begin'>[];
    expect(whole!.record.content.buffer).toBe(first.buffer);
    expect(cut!.record.content).toBeInstanceOf(Buffer);
    expect(cut!.record).toMatchObject({ offset: 16, paddingLength: 3, requestId: 8 });
    expect(latin1(cut!.record.content)).toBe(latin1(body));
    expect(cut!.body).toMatchObject({ role: FCGI_FILTER, flags: 0 });
  });

  it('never throws on arbitrary bytes cut anywhere, and holds at most one unfinished record', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4000 }), fc.array(fc.nat(4000), { maxLength: 12 }), (bytes, rawCuts) => {
        const cuts = rawCuts.map((c) => c % (bytes.length + 1)).sort((x, y) => x - y);
        const collector = new RequestCollector({ maxStreamBytes: 100, maxParamsBytes: 100 });
        const assembler = new StreamAssembler({ maxParamsBytes: 100 });
        let data = 0;
        for (const chunk of chunksOf(bytes, cuts)) {
          collector.pushBytes(chunk);
          for (const e of assembler.pushBytes(chunk)) if (e.kind === 'stream-data') data += e.bytes.length;
        }
        const decoder = new RecordDecoder();
        decoder.push(bytes);
        expect(assembler.pendingBytes).toBe(decoder.pendingBytes);
        expect(assembler.pendingBytes).toBeLessThan(FCGI_MAX_RECORD_LENGTH);
        expect(data).toBeLessThanOrEqual(Math.max(0, bytes.length - FCGI_HEADER_LEN));
        collector.end();
        for (const r of collector.result().requests) for (const s of ['stdin', 'data', 'stdout', 'stderr'] as const) expect(r[s].length).toBeLessThanOrEqual(100);
      }),
      { seed, numRuns: 200 },
    );
  });

  it('end() drops an unfinished record and starts the byte stream over', () => {
    const assembler = new StreamAssembler();
    assembler.pushBytes(rec({ type: FCGI_GET_VALUES, requestId: 0, content: encodeNameValuePairs({ FCGI_MPXS_CONNS: '' }) }).subarray(0, 12));
    expect(assembler.pendingBytes).toBe(12);
    expect(assembler.end()).toEqual([]);
    expect(assembler.pendingBytes).toBe(0);
    const [event] = assembler.pushBytes(end(3));
    expect(event).toMatchObject({ kind: 'end-request', requestId: 3, record: { offset: 0 } });
  });
});
