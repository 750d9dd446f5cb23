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
  FCGI_OVERLOADED,
  FCGI_PARAMS,
  FCGI_REQUEST_COMPLETE,
  FCGI_RESPONDER,
  FCGI_STDERR,
  FCGI_STDIN,
  FCGI_STDOUT,
  FCGI_UNKNOWN_TYPE,
} from '../../spec/constants.ts';
import { isRequirementId, type RequirementId } from '../../spec/requirements.ts';
import { encodeBeginRequestBody, encodeEndRequestBody, encodeUnknownTypeBody, type BeginRequestBody, type EndRequestBody } from './bodies.ts';
import { encodeLength, encodeNameValuePairs } from './name-value.ts';
import { concatBytes, encodeRecord, encodeStream, RecordDecoder, type RecordInit } from './record.ts';
import { StreamValidator, validateBytes, validationRequirements, type SenderSide, type ValidationCheck } from './validate.ts';

const seed = 0x0fcfa;

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
// Records padded to 8 bytes unless a case says otherwise, so good input raises no alignment finding.
const rec = (init: RecordInit): Uint8Array => encodeRecord({ paddingLength: (8 - ((init.content?.length ?? 0) % 8)) % 8, ...init });
const begin = (requestId: number, body: Partial<BeginRequestBody> = {}): Uint8Array =>
  rec({ type: FCGI_BEGIN_REQUEST, requestId, content: encodeBeginRequestBody({ role: FCGI_RESPONDER, flags: FCGI_KEEP_CONN, ...body }) });
const end = (requestId: number, body: Partial<EndRequestBody> = {}): Uint8Array =>
  rec({ type: FCGI_END_REQUEST, requestId, content: encodeEndRequestBody({ appStatus: 0, protocolStatus: FCGI_REQUEST_COMPLETE, ...body }) });
const stream = (type: number, requestId: number, data: string | Uint8Array, terminate = true): Uint8Array =>
  encodeStream(type, requestId, typeof data === 'string' ? text(data) : data, { terminate });
const params = (requestId: number, p: Record<string, string> = { SCRIPT_NAME: '/x' }): Uint8Array => stream(FCGI_PARAMS, requestId, encodeNameValuePairs(p));

/** A valid Responder request as a web server sends it. */
const goodRequest = (id = 1): Uint8Array => concatBytes([begin(id), params(id), stream(FCGI_STDIN, id, 'body')]);
/** A valid Responder response as an application sends it. */
const goodResponse = (id = 1): Uint8Array => concatBytes([stream(FCGI_STDOUT, id, 'Status: 200\r\n\r\nok'), stream(FCGI_STDERR, id, 'warn'), end(id)]);

const requirementsOf = (bytes: Uint8Array, sender: SenderSide): RequirementId[] => [...new Set(validateBytes(bytes, sender).findings.map((f) => f.requirement))].sort();
const only = (...checks: ValidationCheck[]): RequirementId[] => [...new Set(checks.map((c) => validationRequirements[c]))].sort();

interface Case {
  readonly check: ValidationCheck;
  readonly what: string;
  readonly sender: SenderSide;
  readonly bad: Uint8Array;
  /** Further checks the bad input raises as well. */
  readonly also?: readonly ValidationCheck[];
  /** Records the other side sent first, observed by the validator (some checks need both directions). */
  readonly peer?: Uint8Array;
}

function requirementsWithPeer(bytes: Uint8Array, sender: SenderSide, peer: Uint8Array): RequirementId[] {
  const validator = new StreamValidator(sender, { peerObserved: true });
  for (const record of new RecordDecoder().push(peer)) validator.observePeer(record);
  const decoder = new RecordDecoder();
  const found = decoder.push(bytes).flatMap((r) => validator.push(r));
  found.push(...validator.end(decoder.pendingBytes));
  return [...new Set(found.map((f) => f.requirement))].sort();
}

// One crafted bad input per check; each must raise its own requirement (and only the ones listed).
const cases: readonly Case[] = [
  { check: 'recordFraming', what: 'trailing bytes of a cut record', sender: 'web-server', bad: concatBytes([goodRequest(), begin(2).subarray(0, 11)]) },
  { check: 'version', what: 'version 2', sender: 'web-server', bad: concatBytes([encodeRecord({ version: 2, type: FCGI_BEGIN_REQUEST, requestId: 1, content: encodeBeginRequestBody({ role: 1, flags: 0 }) }), params(1), stream(FCGI_STDIN, 1, '')]) },
  { check: 'headerReserved', what: 'reserved header byte 0xff', sender: 'application', bad: concatBytes([encodeRecord({ type: FCGI_STDOUT, requestId: 1, reserved: 0xff }), end(1)]) },
  { check: 'paddingAligned', what: 'a record of 13 bytes', sender: 'application', bad: concatBytes([encodeRecord({ type: FCGI_STDOUT, requestId: 1, content: text('hello') }), stream(FCGI_STDOUT, 1, ''), end(1)]) },
  { check: 'direction', what: 'a web server sending STDOUT', sender: 'web-server', bad: concatBytes([goodRequest(), stream(FCGI_STDOUT, 1, 'x')]) },
  { check: 'direction', what: 'an application sending BEGIN_REQUEST', sender: 'application', bad: concatBytes([begin(1), goodResponse()]) },
  { check: 'unknownTypeFromWebServer', what: 'type 42 on an active request', sender: 'web-server', bad: concatBytes([begin(1), rec({ type: 42, requestId: 1 }), params(1), stream(FCGI_STDIN, 1, '')]) },
  { check: 'unknownTypeFromApplication', what: 'type 0 on id 0', sender: 'application', bad: concatBytes([rec({ type: 0, requestId: 0 }), goodResponse()]) },
  { check: 'requestIdClass', what: 'GET_VALUES on request id 1', sender: 'web-server', bad: concatBytes([rec({ type: FCGI_GET_VALUES, requestId: 1, content: encodeNameValuePairs({ FCGI_MAX_REQS: '' }) }), goodRequest()]) },
  { check: 'requestIdClass', what: 'STDOUT on request id 0', sender: 'application', bad: concatBytes([stream(FCGI_STDOUT, 0, 'x'), goodResponse()]) },
  { check: 'nothingAfterTerminator', what: 'STDIN data after the empty STDIN', sender: 'web-server', bad: concatBytes([goodRequest(), stream(FCGI_STDIN, 1, 'more', false)]) },
  { check: 'nothingAfterTerminator', what: 'a second empty STDOUT', sender: 'application', bad: concatBytes([stream(FCGI_STDOUT, 1, 'x'), stream(FCGI_STDOUT, 1, ''), end(1)]) },
  { check: 'streamTerminator', what: 'END_REQUEST after STDOUT data without its empty record', sender: 'application', bad: concatBytes([stream(FCGI_STDOUT, 1, 'x', false), end(1)]) },
  { check: 'applicationInactiveId', what: 'a second END_REQUEST right after the first (peer observed)', sender: 'application', bad: concatBytes([goodResponse(), end(1)]), peer: goodRequest(1) },
  { check: 'webServerInactiveId', what: 'STDIN for a request never begun', sender: 'web-server', bad: concatBytes([goodRequest(1), stream(FCGI_STDIN, 2, '')]) },
  { check: 'beginBodyLength', what: 'a 7-byte BEGIN_REQUEST body', sender: 'web-server', bad: concatBytes([rec({ type: FCGI_BEGIN_REQUEST, requestId: 1, content: encodeBeginRequestBody({ role: 1, flags: 0 }).subarray(0, 7) }), params(1), stream(FCGI_STDIN, 1, '')]) },
  { check: 'role', what: 'role 9', sender: 'web-server', bad: concatBytes([begin(1, { role: 9 }), params(1), stream(FCGI_STDIN, 1, '')]) },
  { check: 'beginReserved', what: 'flags 0x81', sender: 'web-server', bad: concatBytes([begin(1, { flags: 0x81 }), params(1), stream(FCGI_STDIN, 1, '')]) },
  { check: 'beginReserved', what: 'reserved body bytes 0x20', sender: 'web-server', bad: concatBytes([begin(1, { reserved: text('     ') }), params(1), stream(FCGI_STDIN, 1, '')]) },
  { check: 'beginActiveId', what: 'BEGIN_REQUEST 1 again while its PARAMS are open', sender: 'web-server', bad: concatBytes([begin(1), stream(FCGI_PARAMS, 1, encodeNameValuePairs({ A: 'b' }), false), goodRequest(1)]) },
  { check: 'abortRecord', what: 'ABORT_REQUEST with a body', sender: 'web-server', bad: concatBytes([goodRequest(), rec({ type: FCGI_ABORT_REQUEST, requestId: 1, content: text('why?') })]) },
  { check: 'abortRecord', what: 'ABORT_REQUEST for a request never begun', sender: 'web-server', bad: concatBytes([goodRequest(), rec({ type: FCGI_ABORT_REQUEST, requestId: 5 })]) },
  { check: 'dataOnlyForFilter', what: 'DATA in a Responder request', sender: 'web-server', bad: concatBytes([goodRequest(), stream(FCGI_DATA, 1, 'file')]) },
  { check: 'endBody', what: 'a 4-byte END_REQUEST body', sender: 'application', bad: concatBytes([stream(FCGI_STDOUT, 1, 'x'), rec({ type: FCGI_END_REQUEST, requestId: 1, content: new Uint8Array(4) })]) },
  { check: 'endBody', what: 'protocolStatus 4', sender: 'application', bad: concatBytes([stream(FCGI_STDOUT, 1, 'x'), end(1, { protocolStatus: 4 })]) },
  { check: 'endReserved', what: 'END_REQUEST reserved bytes "DER"', sender: 'application', bad: concatBytes([stream(FCGI_STDOUT, 1, 'x'), end(1, { reserved: text('DER') })]) },
  { check: 'stdoutSent', what: 'END_REQUEST COMPLETE without any STDOUT', sender: 'application', bad: end(1) },
  { check: 'stderrTerminated', what: 'STDERR data never terminated', sender: 'application', bad: concatBytes([stream(FCGI_STDOUT, 1, 'x'), stream(FCGI_STDERR, 1, 'oops', false), end(1)]) },
  { check: 'inputsSequential', what: 'STDIN before the empty PARAMS', sender: 'web-server', bad: concatBytes([begin(1), stream(FCGI_PARAMS, 1, encodeNameValuePairs({ A: 'b' }), false), stream(FCGI_STDIN, 1, 'x'), stream(FCGI_PARAMS, 1, '')]) },
  { check: 'inputsSequential', what: 'DATA before the empty STDIN (Filter)', sender: 'web-server', bad: concatBytes([begin(1, { role: FCGI_FILTER }), params(1), stream(FCGI_DATA, 1, 'f'), stream(FCGI_STDIN, 1, '')]) },
  { check: 'paramsPairs', what: 'a pair cut short by the PARAMS terminator', sender: 'web-server', bad: concatBytes([begin(1), stream(FCGI_PARAMS, 1, encodeNameValuePairs({ NAME: 'value' }).subarray(0, 8)), stream(FCGI_STDIN, 1, '')]) },
  { check: 'paramsPairs', what: 'a declared length of 0x7fffffff', sender: 'web-server', bad: concatBytes([begin(1), stream(FCGI_PARAMS, 1, concatBytes([encodeLength(0x7fffffff, 4), encodeLength(0), text('xyz')])), stream(FCGI_STDIN, 1, '')]) },
  { check: 'getValuesQuery', what: 'GET_VALUES with a value', sender: 'web-server', bad: concatBytes([rec({ type: FCGI_GET_VALUES, requestId: 0, content: encodeNameValuePairs({ FCGI_MAX_REQS: '5' }) }), goodRequest()]) },
  { check: 'getValuesQuery', what: 'GET_VALUES content that is not whole pairs', sender: 'web-server', bad: concatBytes([rec({ type: FCGI_GET_VALUES, requestId: 0, content: Uint8Array.of(14, 0, 70) }), goodRequest()]) },
  { check: 'getValuesResult', what: 'GET_VALUES_RESULT content that is not whole pairs', sender: 'application', bad: concatBytes([rec({ type: FCGI_GET_VALUES_RESULT, requestId: 0, content: Uint8Array.of(0x81) }), goodResponse()]) },
  { check: 'unknownTypeBody', what: 'a 1-byte UNKNOWN_TYPE body', sender: 'application', bad: concatBytes([rec({ type: FCGI_UNKNOWN_TYPE, requestId: 0, content: Uint8Array.of(42) }), goodResponse()]) },
  { check: 'unknownTypeReserved', what: 'UNKNOWN_TYPE reserved bytes set', sender: 'application', bad: concatBytes([rec({ type: FCGI_UNKNOWN_TYPE, requestId: 0, content: encodeUnknownTypeBody({ type: 42, reserved: Uint8Array.of(1) }) }), goodResponse()]) },
];

describe('validateBytes', () => {
  it('finds nothing in valid traffic of either side', () => {
    const ws = concatBytes([
      rec({ type: FCGI_GET_VALUES, requestId: 0, content: encodeNameValuePairs({ FCGI_MAX_CONNS: '', FCGI_MPXS_CONNS: '' }) }),
      goodRequest(1),
      goodRequest(2),
      rec({ type: FCGI_ABORT_REQUEST, requestId: 2 }),
      goodRequest(1), // id 1 again: its previous inputs were complete
      concatBytes([begin(3, { role: FCGI_FILTER, flags: 0 }), params(3, { FCGI_DATA_LENGTH: '4' }), stream(FCGI_STDIN, 3, ''), stream(FCGI_DATA, 3, 'file')]),
    ]);
    expect(validateBytes(ws, 'web-server').findings).toEqual([]);
    const app = concatBytes([
      rec({ type: FCGI_GET_VALUES_RESULT, requestId: 0, content: encodeNameValuePairs({ FCGI_MPXS_CONNS: '1' }) }),
      rec({ type: FCGI_UNKNOWN_TYPE, requestId: 0, content: encodeUnknownTypeBody({ type: 42 }) }),
      stream(FCGI_STDOUT, 1, 'a'),
      stream(FCGI_STDOUT, 2, 'b', false),
      stream(FCGI_STDERR, 2, 'interleaved', false),
      stream(FCGI_STDOUT, 2, ''),
      stream(FCGI_STDERR, 2, ''),
      end(2, { appStatus: 938 }),
      end(1),
      end(3, { protocolStatus: FCGI_OVERLOADED }), // a rejection may come without STDOUT
      goodResponse(1), // id 1 again, begun again by the web server
    ]);
    expect(validateBytes(app, 'application').findings).toEqual([]);
  });

  it('has a crafted bad input for every check', () => {
    const covered = new Set(cases.map((c) => c.check));
    expect(Object.keys(validationRequirements).filter((k) => !covered.has(k as ValidationCheck))).toEqual([]);
  });

  it.each(cases)('$check: $what', ({ check, sender, bad, also = [], peer }) => {
    const found = peer ? requirementsWithPeer(bad, sender, peer) : requirementsOf(bad, sender);
    expect(found).toEqual(only(check, ...also));
  });

  it('points the finding at the offending byte', () => {
    const bytes = concatBytes([goodRequest(), begin(2, { flags: 0x81 })]);
    const [finding] = validateBytes(bytes, 'web-server').findings;
    expect(finding).toMatchObject({ requirement: validationRequirements.beginReserved, requestId: 2, offset: goodRequest().length + 8 + 2 });
    const cut = validateBytes(concatBytes([goodRequest(), new Uint8Array(3)]), 'web-server').findings;
    expect(cut).toEqual([expect.objectContaining({ requirement: validationRequirements.recordFraming, offset: goodRequest().length })]);
  });

  it('reports a capture cut inside a record, or a record whose contentLength lies past the end', () => {
    const good = concatBytes([goodRequest(1), goodRequest(2)]);
    const starts = new RecordDecoder().push(good).map((r) => r.offset);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: good.length - 1 }).filter((n) => !starts.includes(n)), (cut) => {
        const { findings } = validateBytes(good.subarray(0, cut), 'web-server');
        expect(findings.map((f) => f.requirement)).toContain(validationRequirements.recordFraming);
      }),
      { seed, numRuns: 100 },
    );
    const lying = concatBytes([stream(FCGI_STDOUT, 1, 'x'), encodeRecord({ type: FCGI_STDOUT, requestId: 1, content: text('0123456789') }, { contentLength: 100 })]);
    expect(requirementsOf(lying, 'application')).toEqual(only('recordFraming'));
  });

  it('never throws on arbitrary bytes, and every finding cites a catalog id and an offset inside the input', () => {
    const recordArb = fc.record({
      version: fc.constantFrom(1, 1, 1, 0, 2),
      type: fc.oneof(fc.integer({ min: 1, max: 11 }), fc.nat(255)),
      requestId: fc.constantFrom(0, 1, 1, 2, 300),
      content: fc.oneof(fc.uint8Array({ maxLength: 24 }), fc.constant(encodeBeginRequestBody({ role: 1, flags: 1 }))),
      paddingLength: fc.nat(9),
      reserved: fc.constantFrom(0, 0, 0, 7),
    });
    const bytesArb = fc.oneof(
      fc.uint8Array({ maxLength: 400 }),
      fc.tuple(fc.array(recordArb, { maxLength: 30 }), fc.nat(4)).map(([rs, trail]) => concatBytes([...rs.map((r) => encodeRecord(r)), new Uint8Array(trail)])),
    );
    fc.assert(
      fc.property(bytesArb, fc.constantFrom<SenderSide>('web-server', 'application'), (bytes, sender) => {
        const { findings } = validateBytes(bytes, sender);
        for (const f of findings) {
          expect(isRequirementId(f.requirement)).toBe(true);
          expect(f.offset).toBeGreaterThanOrEqual(0);
          expect(f.offset).toBeLessThanOrEqual(bytes.length);
          expect(f.expected.length * f.actual.length).toBeGreaterThan(0);
        }
      }),
      { seed, numRuns: 400 },
    );
  });
});

describe('StreamValidator with the other side observed', () => {
  // Feeds an ordered exchange: [side, bytes] pieces; returns the findings about `side`'s bytes.
  function exchange(side: SenderSide, steps: readonly (readonly [SenderSide, Uint8Array])[]): RequirementId[] {
    const validator = new StreamValidator(side, { peerObserved: true });
    const decoders = { 'web-server': new RecordDecoder(), application: new RecordDecoder() };
    const found: RequirementId[] = [];
    for (const [from, bytes] of steps) {
      for (const record of decoders[from].push(bytes)) {
        if (from === side) found.push(...validator.push(record).map((f) => f.requirement));
        else validator.observePeer(record);
      }
    }
    found.push(...validator.end(decoders[side].pendingBytes).map((f) => f.requirement));
    return [...new Set(found)].sort();
  }

  it('accepts an id reused after its END_REQUEST, on both sides', () => {
    const steps = [
      ['web-server', goodRequest(1)],
      ['application', goodResponse(1)],
      ['web-server', goodRequest(1)],
      ['application', goodResponse(1)],
    ] as const;
    expect(exchange('web-server', steps)).toEqual([]);
    expect(exchange('application', steps)).toEqual([]);
  });

  it('flags output for a request the web server never began', () => {
    expect(exchange('application', [['web-server', goodRequest(1)], ['application', goodResponse(7)]])).toEqual(only('applicationInactiveId'));
  });

  it('flags a second END_REQUEST, and output after END_REQUEST', () => {
    const after = [['web-server', goodRequest(1)], ['application', goodResponse(1)]] as const;
    expect(exchange('application', [...after, ['application', end(1)]])).toEqual(only('applicationInactiveId'));
    expect(exchange('application', [...after, ['application', stream(FCGI_STDOUT, 1, 'late')]])).toEqual(only('applicationInactiveId'));
  });

  it('does not ask for STDOUT when the web server aborted the request', () => {
    const steps = [
      ['web-server', goodRequest(1)],
      ['web-server', rec({ type: FCGI_ABORT_REQUEST, requestId: 1 })],
      ['application', end(1)],
    ] as const;
    expect(exchange('application', steps)).toEqual([]);
    expect(exchange('application', [steps[0], steps[2]])).toEqual(only('stdoutSent'));
  });

  it('flags BEGIN_REQUEST for an id still active, even with its inputs complete', () => {
    expect(exchange('web-server', [['web-server', goodRequest(1)], ['web-server', goodRequest(1)]])).toEqual(only('beginActiveId'));
  });

  it('flags web-server records for an id after its END_REQUEST', () => {
    const steps = [['web-server', goodRequest(1)], ['application', goodResponse(1)]] as const;
    expect(exchange('web-server', [...steps, ['web-server', stream(FCGI_STDIN, 1, 'x')]])).toEqual(only('webServerInactiveId'));
    expect(exchange('web-server', [...steps, ['web-server', rec({ type: FCGI_ABORT_REQUEST, requestId: 1 })]])).toEqual(only('abortRecord'));
  });
});
