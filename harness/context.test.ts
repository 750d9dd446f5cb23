// The scenario context: request encoding from a plan, per-id demultiplexing of what comes back, the Check and
// its verdicts, and the end of a scenario.
import { createServer, type Server, type Socket } from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { RawConnection } from '../reference/client/raw-connection.ts';
import { decodeBeginRequestBody, encodeEndRequestBody } from '../reference/codec/bodies.ts';
import { decodeNameValuePairs, encodeNameValuePairs, toText } from '../reference/codec/name-value.ts';
import { concatBytes, encodeRecord, encodeStream, RecordDecoder, type DecodedRecord } from '../reference/codec/record.ts';
import {
  FCGI_BEGIN_REQUEST,
  FCGI_DATA,
  FCGI_END_REQUEST,
  FCGI_GET_VALUES_RESULT,
  FCGI_PARAMS,
  FCGI_STDERR,
  FCGI_STDIN,
  FCGI_STDOUT,
  FCGI_UNKNOWN_TYPE,
} from '../spec/constants.ts';
import type { RequirementId } from '../spec/requirements.ts';
import type { Profile } from '../suites/define.ts';
import { encodeRequestPlan, FindingRecorder, HarnessConnection, HarnessContext, makeTimeouts, MAX_FINDINGS, ScenarioOver, show } from './context.ts';

const SEED = 20240611;
console.log(`context.test.ts: fast-check seed ${SEED}`);

const MUST: RequirementId = 'FCGI-5.5-request-complete';
const SHOULD: RequirementId = 'FCGI-3.3-align-8';
const MAY: RequirementId = 'FCGI-3.2-concurrent-connections';
const levels = { [MUST]: 'must', [SHOULD]: 'should', [MAY]: 'may' } as const;
const levelOf = (id: RequirementId) => (levels as Record<string, 'must' | 'should' | 'may'>)[id] ?? 'must';
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

function decodeAll(bytes: Uint8Array): DecodedRecord[] {
  return new RecordDecoder().push(bytes);
}
function streamOf(records: readonly DecodedRecord[], type: number): { content: Uint8Array; terminated: boolean; count: number } {
  const mine = records.filter((r) => r.type === type);
  return { content: concatBytes(mine.map((r) => r.content)), terminated: mine.at(-1)?.content.length === 0, count: mine.length };
}

describe('encodeRequestPlan', () => {
  it('encodes BEGIN_REQUEST, PARAMS (base first, plan overriding), STDIN and DATA, for any cut', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.stringMatching(/^[A-Z_]{1,12}$/), fc.string({ maxLength: 300 }), { maxKeys: 6 }),
        fc.uint8Array({ maxLength: 2000 }),
        fc.option(fc.uint8Array({ maxLength: 500 }), { nil: undefined }),
        fc.integer({ min: 1, max: 700 }),
        fc.integer({ min: 1, max: 65535 }),
        fc.integer({ min: 0, max: 255 }),
        (params, stdin, data, maxContent, role, flags) => {
          const base = { SCRIPT_FILENAME: '/srv/index.php', OVERRIDDEN: 'base' };
          const bytes = encodeRequestPlan({ requestId: 7, role, flags, params: { ...params, OVERRIDDEN: 'plan' }, stdin, ...(data ? { data } : {}), records: { maxContent } }, base);
          const records = decodeAll(bytes);
          expect(records[0]!.type).toBe(FCGI_BEGIN_REQUEST);
          expect(decodeBeginRequestBody(records[0]!.content)).toMatchObject({ role, flags, length: 8 });
          expect(records.every((r) => r.requestId === 7)).toBe(true);
          expect(records.slice(1).every((r) => r.content.length <= maxContent)).toBe(true);
          const p = streamOf(records, FCGI_PARAMS);
          expect(p.terminated).toBe(true);
          const pairs = decodeNameValuePairs(p.content).pairs.map((x) => [toText(x.name), toText(x.value)]);
          expect(pairs).toEqual([['SCRIPT_FILENAME', '/srv/index.php'], ...Object.entries({ ...params, OVERRIDDEN: 'plan' })]);
          const s = streamOf(records, FCGI_STDIN);
          expect(s.content).toEqual(stdin);
          expect(s.terminated).toBe(true);
          expect(streamOf(records, FCGI_DATA).content).toEqual(data ?? new Uint8Array());
          expect(streamOf(records, FCGI_DATA).count).toBe(data ? Math.ceil(data.length / maxContent) + 1 : 0);
          // Every record is padded to 8 bytes by default.
          expect(records.every((r) => (r.content.length + r.paddingLength) % 8 === 0)).toBe(true);
        },
      ),
      { seed: SEED, numRuns: 150 },
    );
  });

  it('leaves out what the plan omits and sends raw params bytes as given', () => {
    const raw = Uint8Array.of(0x85, 1, 2);
    const records = decodeAll(encodeRequestPlan({ requestId: 1, paramsBytes: raw, omit: { paramsEnd: true, stdin: true } }, { A: 'b' }));
    expect(records.map((r) => r.type)).toEqual([FCGI_BEGIN_REQUEST, FCGI_PARAMS]);
    expect(records[1]!.content).toEqual(raw);
    const noEnd = decodeAll(encodeRequestPlan({ requestId: 1, stdin: text('x'), omit: { stdinEnd: true }, baseParams: false }, { A: 'b' }));
    expect(streamOf(noEnd, FCGI_STDIN)).toMatchObject({ terminated: false, count: 1 });
    expect(streamOf(noEnd, FCGI_PARAMS).count).toBe(1);
  });
});

// A scripted peer: each accepted socket is handed to the test.
let server: Server | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});
async function peer(): Promise<{ conn: HarnessConnection; app: Socket }> {
  const accepted = new Promise<Socket>((resolve) => {
    server = createServer((s) => {
      sockets.push(s);
      resolve(s);
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const { port } = server!.address() as { port: number };
  const raw = await RawConnection.connect({ kind: 'tcp', host: '127.0.0.1', port });
  const conn = new HarnessConnection(raw, { index: 0, baseParams: {}, timeouts: makeTimeouts(0.25) });
  return { conn, app: await accepted };
}
const end = (id: number, protocolStatus = 0) => encodeRecord({ type: FCGI_END_REQUEST, requestId: id, content: encodeEndRequestBody({ appStatus: 0, protocolStatus }) });

describe('HarnessConnection reads', () => {
  it('sorts interleaved ids, STDERR and management records to their own reads, even when split byte by byte', async () => {
    const { conn, app } = await peer();
    const wire = concatBytes([
      encodeRecord({ type: FCGI_STDOUT, requestId: 2, content: text('two-') }),
      encodeRecord({ type: FCGI_STDOUT, requestId: 1, content: text('Status: 404 Not Found\r\n\r\none') }),
      encodeRecord({ type: FCGI_GET_VALUES_RESULT, requestId: 0, content: encodeNameValuePairs({ FCGI_MPXS_CONNS: '1' }) }),
      encodeRecord({ type: FCGI_STDERR, requestId: 1, content: text('oops') }),
      encodeStream(FCGI_STDOUT, 2, text('more')),
      encodeStream(FCGI_STDOUT, 1, new Uint8Array()),
      end(1),
      encodeRecord({ type: FCGI_UNKNOWN_TYPE, requestId: 0, content: Uint8Array.of(99, 0, 0, 0, 0, 0, 0, 0) }),
      end(2, 3),
    ]);
    void (async () => {
      for (const b of wire) {
        app.write(Uint8Array.of(b));
        await new Promise((r) => setImmediate(r));
      }
      app.end();
    })();
    // Concurrent reads of two ids on one connection: neither steals the other's records.
    const [one, two] = await Promise.all([conn.readResponse(1, 3000), conn.readResponse(2, 3000)]);
    expect(one).toMatchObject({ ending: 'end-request', stdoutTerminated: true, stderrTerminated: false });
    expect(toText(one.stderr)).toBe('oops');
    expect(one.cgi).toMatchObject({ status: 404 });
    expect(toText(one.cgi!.body)).toBe('one');
    expect(one.records.map((r) => r.type)).toEqual([FCGI_STDOUT, FCGI_STDERR, FCGI_STDOUT, FCGI_END_REQUEST]);
    expect(two).toMatchObject({ ending: 'end-request', stdoutTerminated: true });
    expect(two.end).toMatchObject({ protocolStatus: 3, length: 8 });
    expect(toText(two.stdout)).toBe('two-more');
    expect(two.cgi).toBeUndefined();
    const m1 = await conn.nextManagement(1000);
    const m2 = await conn.nextManagement(1000);
    expect([m1, m2].map((e) => (e.kind === 'record' ? e.record.type : e.kind))).toEqual([FCGI_GET_VALUES_RESULT, FCGI_UNKNOWN_TYPE]);
    expect(await conn.waitClose(1000)).toMatchObject({ closed: true, how: 'end' });
    expect((await conn.nextManagement(100)).kind).toBe('closed');
    expect(conn.unclaimed()).toEqual([]);
  });

  it('reports a close or a timeout as the ending, and keeps what arrived after END_REQUEST unclaimed', async () => {
    const { conn, app } = await peer();
    app.write(concatBytes([encodeStream(FCGI_STDOUT, 1, text('x')), end(1), encodeRecord({ type: FCGI_STDOUT, requestId: 1, content: text('late') })]));
    const first = await conn.readResponse(1, 1000);
    expect(first.ending).toBe('end-request');
    await new Promise((r) => setTimeout(r, 50));
    expect(conn.unclaimed().map((r) => toText(r.content))).toEqual(['late']);
    const waited = await conn.readResponse(3, 60);
    expect(waited).toMatchObject({ ending: 'timeout', records: [] });
    expect((await conn.nextEvent(1000)).kind).toBe('record');
    expect((await conn.nextEvent(50)).kind).toBe('timeout');
    expect(await conn.waitClose(50)).toEqual({ closed: false });
    app.write(encodeRecord({ type: FCGI_STDOUT, requestId: 4, content: text('partial') }));
    app.destroy();
    const cut = await conn.readResponse(4, 1000);
    expect(cut.ending).toBe('closed');
    expect(toText(cut.stdout)).toBe('partial');
  });

  it('sends a request in the planned write pieces', async () => {
    const { conn, app } = await peer();
    const chunks: number[] = [];
    app.on('data', (c: Buffer) => chunks.push(c.length));
    const plan = { requestId: 1, params: { A: 'b' }, writes: [3, 5] } as const;
    await conn.sendRequest(plan);
    const total = conn.encodeRequest(plan).length;
    await new Promise((r) => setTimeout(r, 50));
    expect(chunks.reduce((a, b) => a + b, 0)).toBe(total);
    const sent = conn.raw.transcript.filter((e) => e.dir === 'sent').map((e) => (e.dir === 'sent' ? e.bytes.length : 0));
    expect(sent.slice(0, 4)).toEqual([3, 5, 3, 5]);
  });
});

describe('FindingRecorder', () => {
  it('derives verdicts from levels, strict or not', () => {
    const relaxed = new FindingRecorder(levelOf, false);
    relaxed.violation(MUST, 'e', 'a');
    relaxed.violation(SHOULD, 'e', 'a');
    relaxed.violation(MAY, 'e', 'a');
    expect(relaxed.findings.map((f) => f.verdict)).toEqual(['fail', 'warn', 'info']);
    const strict = new FindingRecorder(levelOf, true);
    strict.violation(SHOULD, 'e', 'a');
    expect(strict.findings[0]!.verdict).toBe('fail');
  });

  it('compares deeply, returns the outcome, and records expected and actual', () => {
    const c = new FindingRecorder(levelOf, false);
    expect(c.equal(Uint8Array.of(1, 2), Uint8Array.of(1, 2), MUST, 'bytes')).toBe(true);
    expect(c.equal({ a: [1] }, { a: [1] }, MUST, 'object')).toBe(true);
    expect(c.that(true, MUST, 'x', 'y')).toBe(true);
    expect(c.findings).toEqual([]);
    expect(c.equal(text('ab'), text('ac'), MUST, 'body')).toBe(false);
    expect(c.findings[0]).toEqual({ requirement: MUST, verdict: 'fail', expected: 'body: "ac"', actual: 'body: "ab"' });
    c.observe('FCGI_MAX_REQS', '50');
    expect(c.observations).toEqual({ FCGI_MAX_REQS: '50' });
  });

  it('keeps one of each duplicate, caps the count, and keeps a worse finding past the cap', () => {
    const c = new FindingRecorder(levelOf, false);
    c.violation(MAY, 'same', 'same');
    c.violation(MAY, 'same', 'same');
    expect(c.findings).toHaveLength(1);
    for (let i = 0; i < MAX_FINDINGS + 10; i++) c.violation(MAY, 'e', `a${i}`);
    expect(c.findings).toHaveLength(MAX_FINDINGS);
    c.violation(MUST, 'e', 'worse');
    expect(c.findings).toHaveLength(MAX_FINDINGS + 1);
    expect(c.omitted).toBe(12);
  });

  it('shows bytes as text or hex, capped', () => {
    expect(show(text('hi\n'))).toBe('"hi\\n"');
    expect(show(Uint8Array.of(0, 255))).toBe('0x00ff');
    expect(show(new Uint8Array(200), 4)).toBe('0x00000000… (200 bytes)');
    expect(show(undefined)).toBe('undefined');
    expect(show({ a: 1 })).toBe('{"a":1}');
  });
});

describe('HarnessContext', () => {
  const profile: Profile = { roles: ['responder'], multiplex: false, keepConn: true, probe: false };
  const make = (seed: number) =>
    new HarnessContext({ address: { kind: 'tcp', host: '127.0.0.1', port: 9 }, profile, baseParams: {}, timeouts: makeTimeouts(2), strict: false, levelOf, seed });

  it('scales its timeouts', () => {
    const ctx = make(1);
    expect(ctx.timeouts).toMatchObject({ replyMs: 4000, closeMs: 4000, quietMs: 400 });
    expect(ctx.timeouts.scale(150)).toBe(300);
  });

  it('draws seeded integers within bounds', () => {
    const a = make(3);
    const b = make(3);
    const xs = Array.from({ length: 200 }, () => a.randomInt(-3, 3));
    expect(xs).toEqual(Array.from({ length: 200 }, () => b.randomInt(-3, 3)));
    expect(new Set(xs)).toEqual(new Set([-3, -2, -1, 0, 1, 2, 3]));
  });

  it('stops recording, sleeping and connecting once aborted', async () => {
    const ctx = make(1);
    const sleeping = ctx.sleep(60_000);
    ctx.abort('watchdog');
    await sleeping;
    expect(ctx.signal.aborted).toBe(true);
    ctx.check.violation(MUST, 'e', 'a');
    expect(ctx.check.findings).toEqual([]);
    await expect(ctx.connect()).rejects.toBeInstanceOf(ScenarioOver);
    await expect(ctx.sleep(1)).rejects.toBeInstanceOf(ScenarioOver);
    expect(ctx.notes.map((n) => n.text)).toEqual(['sleeping 60000 ms', 'watchdog']);
  });
});
