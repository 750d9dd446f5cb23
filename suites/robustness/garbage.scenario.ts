/**
 * Bytes that are not a conversation: random bytes, random records, a request cut off at every kind of
 * place. The application may close or ignore; it must not crash, hang or stop accepting, and a new
 * connection is served afterwards. @see §3.5 "When an application closes a connection or finds that a
 * connection has closed, the application initiates a new connection."
 */
import { FCGI_KEEP_CONN, FCGI_PARAMS, FCGI_STDIN } from '../../spec/constants.ts';
import { concatBytes, encodeRecord, type RecordInit } from '../../reference/codec/record.ts';
import { defineScenario, type Scenario, type ScenarioConnection, type ScenarioContext } from '../define.ts';
import { encodePlan, formatSize, recordBoundaries, recordsOf, relayout, sendAndRead } from '../kit.ts';
import { collectFor, describeQuiet, expectFreshServed, observeCounts, settle } from '../kit-flow.ts';

/** Seeded random bytes from the scenario's random source. */
function randomBytes(ctx: Pick<ScenarioContext, 'randomInt'>, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = ctx.randomInt(0, 255);
  return out;
}

/**
 * Sends `bytes` without waiting for the peer to read them all (it may stop reading), collects what comes back
 * for the quiet period, and closes. Returns a few words on what the application did.
 */
async function throwAt(ctx: ScenarioContext, conn: ScenarioConnection, bytes: Uint8Array): Promise<string> {
  void conn.send(bytes);
  const quiet = await collectFor(conn, ctx.timeouts.quietMs);
  conn.close();
  if (quiet.closed && quiet.records.length === 0) return `closed (${quiet.closed.how})`;
  return quiet.records.length === 0 ? 'nothing' : describeQuiet(quiet).slice(0, 200);
}

const randomGarbage = defineScenario({
  id: 'robustness.garbage',
  title: 'survives connections that carry only random bytes (16 bytes, 1 KiB, 64 KiB), and serves a new one',
  group: 'robustness',
  requirements: ['FCGI-3.5-accept-after-close'],
  hostile: true,
  timeoutMs: 15_000,
  async run(ctx) {
    for (const size of [16, 1024, 65536]) {
      const conn = await ctx.connect();
      const bytes = randomBytes(ctx, size);
      conn.note(`${formatSize(size)} of seeded random bytes`);
      ctx.check.observe(`answer to ${formatSize(size)} of random bytes`, await throwAt(ctx, conn, bytes));
    }
    await expectFreshServed(ctx, 'FCGI-3.5-accept-after-close', 'after three connections of random bytes');
  },
});

/** A record of random type, id, content and padding: well framed, meaningless. */
function randomRecord(ctx: ScenarioContext): RecordInit {
  const length = ctx.randomInt(0, 3) === 0 ? ctx.randomInt(0, 300) : ctx.randomInt(0, 16);
  return {
    type: ctx.randomInt(0, 3) === 0 ? ctx.randomInt(0, 255) : ctx.randomInt(1, 11),
    requestId: ctx.randomInt(0, 3),
    content: randomBytes(ctx, length),
    paddingLength: ctx.randomInt(0, 1) === 0 ? 0 : ctx.randomInt(0, 255),
    reserved: ctx.randomInt(0, 3) === 0 ? ctx.randomInt(0, 255) : 0,
  };
}

const randomRecords = defineScenario({
  id: 'robustness.random-records',
  title: 'survives connections of well-framed records with random types, ids, bodies and padding',
  group: 'robustness',
  requirements: ['FCGI-3.5-accept-after-close'],
  hostile: true,
  timeoutMs: 20_000,
  async run(ctx) {
    const words: string[] = [];
    for (let c = 0; c < 8; c++) {
      const conn = await ctx.connect();
      const bytes = concatBytes(Array.from({ length: 50 }, () => encodeRecord(randomRecord(ctx), { paddingByte: ctx.randomInt(0, 255) })));
      conn.note(`50 random records, ${formatSize(bytes.length)}`);
      const answer = await throwAt(ctx, conn, bytes);
      words.push(answer.startsWith('closed') ? 'closed' : answer === 'nothing' ? 'nothing' : 'answered');
    }
    observeCounts(ctx.check, 'connections of 50 random records', words);
    await expectFreshServed(ctx, 'FCGI-3.5-accept-after-close', 'after eight connections of random records');
  },
});

/** Where a request is cut off, as an offset into its bytes, with a name. */
function cutPoints(bytes: Uint8Array): { readonly label: string; readonly at: number }[] {
  const records = recordsOf(bytes);
  const starts = recordBoundaries(bytes);
  const params = records.findIndex((r) => r.type === FCGI_PARAMS && r.content.length > 0);
  const stdin = records.findIndex((r) => r.type === FCGI_STDIN && r.content.length > 0);
  const at = (i: number): number => starts[i] ?? 0;
  const p = records[params]!;
  const s = records[stdin]!;
  return [
    { label: 'after 1 byte of the BEGIN_REQUEST header', at: 1 },
    { label: 'after 4 bytes of the BEGIN_REQUEST header', at: 4 },
    { label: 'after 7 bytes of the BEGIN_REQUEST header', at: 7 },
    { label: 'inside the BEGIN_REQUEST body', at: 11 },
    { label: 'after BEGIN_REQUEST', at: at(1) },
    { label: 'inside a PARAMS header', at: at(params) + 5 },
    { label: 'inside PARAMS content', at: at(params) + 8 + Math.floor(p.content.length / 2) },
    { label: 'inside PARAMS padding', at: at(params) + 8 + p.content.length + 1 },
    { label: 'after the PARAMS stream', at: at(stdin) },
    { label: 'inside STDIN content', at: at(stdin) + 8 + Math.floor(s.content.length / 2) },
    { label: 'before the empty STDIN record', at: at(stdin + 1) },
  ];
}

const closeMidRecord = defineScenario({
  id: 'robustness.close-mid-record',
  title: 'survives requests cut off inside headers, bodies, content and padding, then closed or half-closed',
  group: 'robustness',
  requirements: ['FCGI-3.5-accept-after-close'],
  hostile: true,
  timeoutMs: 20_000,
  async run(ctx) {
    const body = new Uint8Array(100).fill(0x41);
    // Padding on every record, so "inside the padding" exists.
    const full = relayout(encodePlan(ctx, { requestId: 1, params: [['CONTENT_LENGTH', '100']], stdin: body }), { padding: () => 6 });
    const points = cutPoints(full);
    const closedByApp: string[] = [];
    for (const [i, point] of points.entries()) {
      const conn = await ctx.connect();
      conn.note(`cut ${point.label} (offset ${point.at})`);
      await conn.send(full.subarray(0, point.at));
      // Half of the cuts end with our FIN (the application can still answer), half with a close.
      if (i % 2 === 0) {
        conn.raw.end();
        const closed = await conn.waitClose(ctx.timeouts.quietMs);
        if (closed.closed) closedByApp.push(point.label);
      }
      conn.close();
    }
    ctx.check.observe('closed by the application after our FIN', `${closedByApp.length} of ${Math.ceil(points.length / 2)}`);
    await expectFreshServed(ctx, 'FCGI-3.5-accept-after-close', `after ${points.length} connections cut off mid-record`);
  },
});

const closeMidRequest = defineScenario({
  id: 'robustness.close-mid-request',
  title: 'serves a new connection after one closed before its request ended and one closed right after a kept request',
  group: 'robustness',
  requirements: ['FCGI-3.5-accept-after-close'],
  hostile: true,
  async run(ctx) {
    // §3.5 as the catalog reads it: the application goes back to accepting, whoever closed and whenever.
    const midway = await ctx.connect();
    await midway.send(midway.encodeRequest({ requestId: 1, params: [['CONTENT_LENGTH', '1000']], stdin: new Uint8Array(10), omit: { stdinEnd: true } }));
    await settle(ctx);
    midway.close();
    await expectFreshServed(ctx, 'FCGI-3.5-accept-after-close', 'after a connection closed after PARAMS, before STDIN ended');

    const kept = await ctx.connect();
    const { obs } = await sendAndRead(kept, { requestId: 1, flags: FCGI_KEEP_CONN });
    kept.close();
    ctx.check.observe('kept request before the close', obs.ending);
    await expectFreshServed(ctx, 'FCGI-3.5-accept-after-close', 'after the web server closed a kept connection right after FCGI_END_REQUEST');
  },
});

const closeAfterBegin = defineScenario({
  id: 'robustness.close-after-begin',
  title: 'survives 20 connections closed right after FCGI_BEGIN_REQUEST',
  group: 'robustness',
  requirements: ['FCGI-3.5-accept-after-close'],
  hostile: true,
  async run(ctx) {
    for (let i = 0; i < 20; i++) {
      const conn = await ctx.connect();
      const bytes = conn.encodeRequest({ requestId: 1, flags: i % 2 ? FCGI_KEEP_CONN : 0 });
      await conn.send(bytes.subarray(0, 16));
      if (i % 4 === 3) conn.raw.end();
      else conn.close();
    }
    await expectFreshServed(ctx, 'FCGI-3.5-accept-after-close', 'after 20 connections closed right after FCGI_BEGIN_REQUEST');
  },
});

export const garbageScenarios: readonly Scenario[] = [randomGarbage, randomRecords, closeMidRecord, closeMidRequest, closeAfterBegin];
