import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  FCGI_END_REQUEST,
  FCGI_GET_VALUES,
  FCGI_NULL_REQUEST_ID,
  FCGI_PARAMS,
  FCGI_STDERR,
  FCGI_STDIN,
  FCGI_STDOUT,
  FCGI_UNKNOWN_ROLE,
  FCGI_UNKNOWN_TYPE,
} from '../spec/constants.ts';
import type { RequirementId } from '../spec/requirements.ts';
import { decodeEndRequestBody, encodeEndRequestBody, encodeUnknownTypeBody } from '../reference/codec/bodies.ts';
import { concatBytes, encodeRecord, type DecodedRecord, type RecordInit } from '../reference/codec/record.ts';
import type { Check, Profile, ResponseObservation } from './define.ts';
import { requirements } from '../spec/requirements.ts';
import { runScenarios } from '../harness/runner.ts';
import { NetworkTarget } from '../harness/target.ts';
import type { Catalog } from '../reports/summarize.ts';
import type { Verdict } from '../reports/model.ts';
import { createResponder, parseFault, type ResponderOptions } from '../reference/responder/index.ts';
import { probeHandler } from '../reference/probe/app.ts';
import { scenarios as recordLayer } from './record-layer/index.ts';
import { scenarios as management } from './management/index.ts';
import { scenarios as beginRequest } from './begin-request/index.ts';
import { scenarios as params } from './params/index.ts';
import { scenarios as oversizedParams } from './oversized-params/index.ts';
import { scenarios as stdinGroup } from './stdin/index.ts';
import { scenarios as output } from './output/index.ts';
import {
  checkEndRequest,
  checkOutputStreams,
  checkRecordHeaders,
  checkResponseFraming,
  describeMismatch,
  echoProblem,
  encodePlan,
  expectCleanOutcome,
  expectUnknownType,
  kitRequirements,
  mapRecords,
  outcomeOf,
  paramsOf,
  parseCgi,
  patternBytes,
  probe,
  probeAnswerProblem,
  randomCuts,
  recordsOf,
  relayout,
  splitAt,
  utf8,
  bodyParams,
  variantId,
} from './kit.ts';

const SEED = 0x5eed;

/** A `Check` that keeps what it is told. */
function recorder(): Check & { readonly found: { requirement: RequirementId; expected: string; actual: string }[]; readonly observed: Record<string, unknown> } {
  const found: { requirement: RequirementId; expected: string; actual: string }[] = [];
  const observed: Record<string, unknown> = {};
  const check: Check = {
    violation: (requirement, expected, actual) => void found.push({ requirement, expected, actual }),
    that: (ok, requirement, expected, actual) => {
      if (!ok) found.push({ requirement, expected, actual });
      return ok;
    },
    equal: (a, b, requirement, what) => check.that(a === b, requirement, what, String(a)),
    observe: (key, value) => void (observed[key] = value),
  };
  return Object.assign(check, { found, observed });
}

/** An observation of request 1 built from records, as `readResponse` would (stops at FCGI_END_REQUEST). */
function observe(records: readonly RecordInit[], ending: ResponseObservation['ending'] = 'end-request'): ResponseObservation {
  const decoded: DecodedRecord[] = recordsOf(concatBytes(records.map((r) => encodeRecord(r))));
  const upTo = decoded.findIndex((r) => r.type === FCGI_END_REQUEST);
  const mine = upTo >= 0 ? decoded.slice(0, upTo + 1) : decoded;
  const end = mine.find((r) => r.type === FCGI_END_REQUEST);
  const stream = (type: number): Uint8Array => concatBytes(mine.filter((r) => r.type === type).map((r) => r.content));
  const terminated = (type: number): boolean => mine.some((r) => r.type === type && r.content.length === 0);
  return {
    requestId: 1,
    ending: end ? 'end-request' : ending,
    ...(end ? { end: decodeEndRequestBody(end.content) } : {}),
    stdout: stream(FCGI_STDOUT),
    stderr: stream(FCGI_STDERR),
    stdoutTerminated: terminated(FCGI_STDOUT),
    stderrTerminated: terminated(FCGI_STDERR),
    records: mine,
    elapsedMs: 1,
  };
}

const stdout = (text: string): RecordInit => ({ type: FCGI_STDOUT, requestId: 1, content: utf8(text), paddingLength: (8 - (text.length % 8)) % 8 });
const stderr = (text: string): RecordInit => ({ type: FCGI_STDERR, requestId: 1, content: utf8(text), paddingLength: (8 - (text.length % 8)) % 8 });
const endOf = (protocolStatus = 0, appStatus = 0, reserved?: Uint8Array): RecordInit => ({
  type: FCGI_END_REQUEST,
  requestId: 1,
  content: encodeEndRequestBody({ appStatus, protocolStatus, ...(reserved ? { reserved } : {}) }),
});
const empty = (type: number): RecordInit => ({ type, requestId: 1 });
const good = (): RecordInit[] => [stdout('Status: 200 OK\r\n\r\nhello!'), empty(FCGI_STDOUT), endOf()];

describe('bytes', () => {
  it('splits at sorted, deduplicated cuts inside the bytes and loses nothing', () => {
    console.log(`kit.test seed ${SEED}`);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.integer({ min: -5, max: 310 })), (bytes, cuts) => {
        const parts = splitAt(bytes, cuts);
        expect(concatBytes(parts)).toEqual(bytes);
        expect(parts.slice(0, -1).every((p) => p.length > 0)).toBe(true);
      }),
      { seed: SEED },
    );
  });

  it('draws distinct sorted random cuts inside the length', () => {
    let n = 0;
    const cuts = randomCuts({ randomInt: (lo, hi) => lo + (n++ * 13) % (hi - lo + 1) }, 50, 10);
    expect(cuts).toHaveLength(10);
    expect(new Set(cuts).size).toBe(10);
    expect(cuts.every((c) => c >= 1 && c <= 49)).toBe(true);
    expect([...cuts].sort((a, b) => a - b)).toEqual(cuts);
    // A source stuck on one value still yields the count asked for.
    expect(randomCuts({ randomInt: () => 5 }, 50, 10)).toHaveLength(10);
  });

  it('names the first differing offset, and nothing for equal bytes', () => {
    expect(describeMismatch(utf8('abc'), utf8('abc'))).toBeUndefined();
    expect(describeMismatch(utf8('abXd'), utf8('abcd'))).toContain('first difference at offset 2');
    expect(describeMismatch(utf8('ab'), utf8('abc'))).toContain('got end of data');
  });

  it('makes the same pattern for the same seed and another for another seed', () => {
    expect(patternBytes(100, 1)).toEqual(patternBytes(100, 1));
    expect(patternBytes(100, 1)).not.toEqual(patternBytes(100, 2));
  });
});

describe('request building', () => {
  const ctx = { baseParams: { SCRIPT_FILENAME: '/x.php', REQUEST_METHOD: 'GET' } };

  it('re-cuts and re-pads records without changing the streams', () => {
    const body = patternBytes(1000, 3);
    const bytes = encodePlan(ctx, { requestId: 1, params: bodyParams(body.length), stdin: body });
    const out = relayout(bytes, { sizes: { [FCGI_STDIN]: [4] }, padding: (k) => (255 - k) & 0xff, paddingByte: 0xa5 });
    const records = recordsOf(out);
    expect(concatBytes(records.filter((r) => r.type === FCGI_STDIN).map((r) => r.content))).toEqual(body);
    expect(records.filter((r) => r.type === FCGI_STDIN && r.content.length > 0).every((r) => r.content.length === 4)).toBe(true);
    expect(records.map((r) => r.paddingLength)).toEqual(records.map((_, k) => (255 - k) & 0xff));
    expect(records.every((r) => r.padding.every((b) => b === 0xa5))).toBe(true);
    expect(paramsOf(out)).toEqual(paramsOf(bytes));
  });

  it('lets a plan param replace a base param of the same name', () => {
    const pairs = paramsOf(encodePlan(ctx, { requestId: 1, params: bodyParams(3) }));
    expect(pairs.filter((p) => new TextDecoder().decode(p.name) === 'REQUEST_METHOD').map((p) => new TextDecoder().decode(p.value))).toEqual(['POST']);
  });

  it('edits header fields of every record', () => {
    const bytes = mapRecords(encodePlan(ctx, { requestId: 1 }), () => ({ reserved: 0xff, version: 2 }));
    expect(recordsOf(bytes).every((r) => r.reserved === 0xff && r.version === 2)).toBe(true);
  });

  it('names variants: the probe one plain, the framing one suffixed', () => {
    expect(variantId('params.x', 'probe')).toBe('params.x');
    expect(variantId('params.x', 'framing')).toBe('params.x.framing');
  });
});

describe('outcomes', () => {
  it('classifies served, refused, closed and silent responses', () => {
    expect(outcomeOf(observe(good()))).toBe('complete');
    expect(outcomeOf(observe([endOf(FCGI_UNKNOWN_ROLE)]))).toBe('rejected');
    expect(outcomeOf(observe([], 'closed'))).toBe('closed-silently');
    expect(outcomeOf(observe([stdout('partial')], 'closed'))).toBe('closed-partial');
    expect(outcomeOf(observe([], 'timeout'))).toBe('timeout-silent');
    expect(outcomeOf(observe([stdout('partial')], 'timeout'))).toBe('timeout-partial');
  });

  it('accepts clean outcomes of hostile input and flags partial output', () => {
    const ok = recorder();
    expectCleanOutcome(ok, observe([], 'closed'), 'FCGI-5.1-malformed-begin-body', 'x');
    expect(ok.found).toEqual([]);
    const bad = recorder();
    expectCleanOutcome(bad, observe([stdout('half')], 'closed'), 'FCGI-5.1-malformed-begin-body', 'x');
    expect(bad.found.map((f) => f.requirement)).toEqual(['FCGI-5.1-malformed-begin-body']);
  });
});

describe('framing checks', () => {
  it('find nothing wrong with a well-formed response', () => {
    const check = recorder();
    checkResponseFraming(check, observe([stdout('Status: 200 OK\r\n\r\n'), stderr('warning'), stdout('body'), empty(FCGI_STDOUT), empty(FCGI_STDERR), endOf()]));
    expect(check.found).toEqual([]);
  });

  it('accept no STDERR stream, or an empty one', () => {
    const check = recorder();
    checkResponseFraming(check, observe([...good().slice(0, 2), empty(FCGI_STDERR), endOf()]));
    checkResponseFraming(check, observe(good()));
    expect(check.found).toEqual([]);
  });

  it('find a missing STDOUT terminator, an unterminated STDERR and data after a terminator', () => {
    const check = recorder();
    checkOutputStreams(check, observe([stdout('Status: 200 OK\r\n\r\n'), stderr('oops'), endOf()]));
    expect(check.found.map((f) => f.requirement)).toEqual([kitRequirements.stdoutSent, kitRequirements.stderrTerminated]);
    const after = recorder();
    checkOutputStreams(after, observe([stdout('a'), empty(FCGI_STDOUT), stdout('b'), empty(FCGI_STDOUT), endOf()]));
    expect(after.found.map((f) => f.requirement)).toEqual([kitRequirements.afterTerminator]);
  });

  it('find a bad END_REQUEST body and a response without one', () => {
    const check = recorder();
    checkEndRequest(check, observe([stdout('x'), empty(FCGI_STDOUT), endOf(7, 0, Uint8Array.of(1, 2, 3))]));
    expect(check.found.map((f) => f.requirement)).toEqual([kitRequirements.endBody, kitRequirements.endReserved]);
    const none = recorder();
    expect(checkEndRequest(none, observe([stdout('x')], 'closed'))).toBe(false);
    expect(none.found.map((f) => f.requirement)).toEqual([kitRequirements.endOnce]);
  });

  it('find wrong versions, reserved bytes, types and alignment, once per kind', () => {
    const check = recorder();
    const records = recordsOf(
      concatBytes([
        encodeRecord({ type: FCGI_STDOUT, requestId: 1, content: utf8('abc'), version: 2, reserved: 9 }),
        encodeRecord({ type: FCGI_STDOUT, requestId: 1, content: utf8('abcdefgh'), version: 2 }),
        encodeRecord({ type: FCGI_PARAMS, requestId: 1 }),
        encodeRecord({ type: 42, requestId: 1 }),
      ]),
    );
    expect(checkRecordHeaders(check, records)).toBe(1);
    expect(check.found.map((f) => f.requirement)).toEqual([
      kitRequirements.version,
      kitRequirements.reservedByte,
      kitRequirements.direction,
      kitRequirements.outputTypes,
      kitRequirements.alignment,
    ]);
  });
});

describe('management', () => {
  const record = (init: RecordInit): DecodedRecord => recordsOf(encodeRecord(init))[0]!;

  it('accepts {FCGI_UNKNOWN_TYPE, 0, {T}} and names what is wrong otherwise', () => {
    const ok = recorder();
    const reply = record({ type: FCGI_UNKNOWN_TYPE, requestId: FCGI_NULL_REQUEST_ID, content: encodeUnknownTypeBody({ type: 42 }) });
    expect(expectUnknownType(ok, { kind: 'record', record: reply, atMs: 0 }, 42)).toBe(true);
    expect(ok.found).toEqual([]);
    const wrong = recorder();
    expectUnknownType(wrong, { kind: 'record', record: reply, atMs: 0 }, 12);
    expectUnknownType(wrong, { kind: 'timeout', afterMs: 5, atMs: 5 }, 12);
    expectUnknownType(wrong, { kind: 'record', record: record({ type: FCGI_GET_VALUES, requestId: 0 }), atMs: 0 }, 12);
    expect(wrong.found).toHaveLength(3);
  });
});

describe('probe answers', () => {
  const ctx = { baseParams: {} };
  const answer = (head: string, body: Uint8Array): RecordInit[] => [
    { type: FCGI_STDOUT, requestId: 1, content: concatBytes([utf8(head), body]) },
    empty(FCGI_STDOUT),
    endOf(),
  ];

  it('compares an echo with what was sent', () => {
    const body = patternBytes(50, 9);
    expect(echoProblem(observe(answer('Content-Type: application/octet-stream\r\n\r\n', body)), body)).toBeUndefined();
    expect(echoProblem(observe(answer('Status: 500 Oops\r\n\r\n', body)), body)).toContain('status 500');
    expect(echoProblem(observe(answer('Content-Type: x\r\n\r\n', body.subarray(1))), body)).toContain('first difference');
  });

  it('predicts answers through the probe model, stderr compared only when asked for', () => {
    const bytes = encodePlan(ctx, { requestId: 1, params: probe.echoParams('FCGISPEC_') .concat([['FCGISPEC_B', '2'], ['FCGISPEC_A', '1']]) });
    const right = answer('Status: 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n', utf8('FCGISPEC_A=1\nFCGISPEC_B=2\n'));
    expect(probeAnswerProblem(observe([stderr('a library warning'), ...right]), bytes)).toBeUndefined();
    const wrongOrder = answer('Content-Type: application/octet-stream\r\n\r\n', utf8('FCGISPEC_B=2\nFCGISPEC_A=1\n'));
    expect(probeAnswerProblem(observe(wrongOrder), bytes)).toContain('body differs');
    const text = encodePlan(ctx, { requestId: 1, params: probe.stderr('boom') });
    const okAnswer = answer('Content-Type: application/octet-stream\r\n\r\n', utf8('ok\n'));
    expect(probeAnswerProblem(observe([stderr('PHP message: boom'), empty(FCGI_STDERR), ...okAnswer]), text)).toBeUndefined();
    expect(probeAnswerProblem(observe(okAnswer), text)).toContain('FCGI_STDERR');
  });

  it('parses CGI responses and reports where one is broken', () => {
    const parsed = parseCgi(utf8('Status: 404 Not Found\r\nX: y\r\n\r\nbody'));
    expect('response' in parsed && parsed.response.status).toBe(404);
    expect('error' in parseCgi(utf8('no header block'))).toBe(true);
  });
});

describe('the kit\'s scenario groups against the reference responder', () => {
  const all = [...recordLayer, ...management, ...beginRequest, ...params, ...oversizedParams, ...stdinGroup, ...output];
  const dirs: string[] = [];
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the scenarios `ids`, each alone, against a reference responder with `options`; returns id → verdict. */
  async function run(ids: readonly string[], options: Partial<ResponderOptions> = {}): Promise<Record<string, Verdict>> {
    const dir = mkdtempSync(join(tmpdir(), 'fcgispec-kit-'));
    dirs.push(dir);
    const responder = createResponder({ handler: probeHandler, webServerAddrs: null, ...options });
    stops.push(() => responder.close({ graceMs: 50 }));
    const { address } = await responder.listen(`unix:${join(dir, 'app.sock')}`);
    const profile: Profile = { roles: ['responder', 'authorizer', 'filter'], multiplex: true, keepConn: true, probe: true };
    const verdicts: Record<string, Verdict> = {};
    for (const id of ids) {
      const scenario = all.find((x) => x.id === id);
      if (!scenario) throw new Error(`no scenario ${id}`);
      // One run per scenario: a fault that breaks every request must not mark later scenarios "target down".
      const [result] = await runScenarios({
        scenarios: [scenario],
        target: new NetworkTarget(address),
        profile,
        baseParams: {},
        catalog: requirements as unknown as Catalog,
        strict: false,
        seed: SEED,
        timeoutScale: 0.5,
      });
      verdicts[id] = result!.verdict;
    }
    return verdicts;
  }

  it('passes a sample of every group against the reference', async () => {
    const ids = [
      'record-layer.padding.every-length',
      'record-layer.padding.terminators.framing',
      'record-layer.max-record',
      'record-layer.segments.byte-at-a-time',
      'record-layer.reserved-byte-ignored',
      'management.get-values.all',
      'management.unknown-type.with-content',
      'management.during-request',
      'begin-request.responder',
      'begin-request.authorizer',
      'begin-request.filter',
      'begin-request.unknown-role',
      'begin-request.body-7-bytes',
      'params.ten-thousand-pairs',
      'params.length-forms',
      'params.spec-example-2',
      'oversized-params.1mib',
      'stdin.record-sizes',
      'stdin.before-params-end',
      'output.end-request',
      'output.stderr',
      'output.bulk-1mib',
      'output.app-status',
    ];
    const verdicts = await run(ids);
    expect(verdicts).toEqual(Object.fromEntries(ids.map((id) => [id, 'pass'])));
  }, 30_000);

  it.each([
    ['no-stdout-end', 'output.stdout-terminated', 'fail'],
    ['no-stderr-end', 'output.stderr', 'warn'],
    ['wrong-version', 'output.record-headers', 'fail'],
    ['bad-padding', 'output.record-headers', 'warn'],
    ['nonzero-reserved', 'output.end-request', 'warn'],
    ['duplicate-end-request', 'output.end-request', 'fail'],
    ['output-after-end', 'output.end-request', 'fail'],
    ['wrong-app-status', 'output.app-status', 'fail'],
    ['no-unknown-type', 'management.unknown-type.empty', 'fail'],
    ['no-get-values', 'management.get-values.all', 'fail'],
    ['wrong-unknown-role', 'begin-request.unknown-role', 'fail'],
    ['never-close', 'begin-request.responder', 'fail'],
    ['echo-wrong', 'stdin.one-byte', 'fail'],
    // Legal behaviour passes, and keep-conn trouble is not blamed on what a scenario tests.
    ['padding-255', 'output.record-headers', 'pass'],
    ['stderr-flood', 'output.stderr', 'pass'],
    ['no-status-header', 'output.cgi-response', 'pass'],
    ['ignore-keep-conn', 'record-layer.padding.terminators', 'pass'],
    ['ignore-keep-conn', 'params.lengths', 'pass'],
  ] as const)('with the fault %s, %s gives %s', async (fault, id, verdict) => {
    const verdicts = await run([id], { faults: [parseFault(fault)] });
    expect(verdicts[id]).toBe(verdict);
  }, 20_000);
});
