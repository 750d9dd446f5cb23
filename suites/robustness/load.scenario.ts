/**
 * Load a web server should not produce but a hostile peer can: a storm of FCGI_BEGIN_REQUEST on one
 * connection, hundreds of connections opened and dropped, connections closed while their handler runs or
 * while it writes. The application survives each and serves a new connection afterwards. @see §3.5
 */
import { FCGI_END_REQUEST, FCGI_KEEP_CONN, FCGI_STDOUT, protocolStatusName } from '../../spec/constants.ts';
import { decodeEndRequestBody } from '../../reference/codec/bodies.ts';
import type { DecodedRecord } from '../../reference/codec/record.ts';
import { defineScenario, type Scenario, type ScenarioConnection } from '../define.ts';
import { beginRecord, encodePlan, encodeRecords, formatSize, probe } from '../kit.ts';
import { collectFor, expectFreshServed, observeCounts, settle, type QuietResult } from '../kit-flow.ts';
import { HarnessError } from '../../harness/errors.ts';

const STORM = 1024;

/**
 * Takes every event until nothing has come for `quietMs` (or `maxMs` in all): answers to a burst of records
 * come together, so waiting out the whole reply time after the last one adds nothing.
 */
async function collectUntilQuiet(conn: ScenarioConnection, quietMs: number, maxMs: number): Promise<QuietResult> {
  const deadline = performance.now() + maxMs;
  const records: DecodedRecord[] = [];
  for (;;) {
    const left = Math.round(deadline - performance.now());
    if (left <= 0) return { records };
    const more = await collectFor(conn, Math.min(quietMs, left));
    records.push(...more.records);
    if (more.closed) return { records, closed: more.closed };
    if (more.records.length === 0) return { records };
  }
}

const beginStorm = defineScenario({
  id: 'robustness.begin-storm',
  title: `survives ${STORM} FCGI_BEGIN_REQUEST records for different ids (1 to 65473) on one connection`,
  group: 'robustness',
  requirements: ['FCGI-3.5-accept-after-close'],
  hostile: true,
  timeoutMs: 15_000,
  async run(ctx) {
    const conn = await ctx.connect();
    // Ids spread over the whole range: an application that tracks ids in an array indexed by id sees them all.
    const ids = Array.from({ length: STORM }, (_, i) => 1 + i * 64);
    void conn.send(encodeRecords(ids.map((id) => beginRecord(id, { flags: FCGI_KEEP_CONN }))));
    const answers = await collectUntilQuiet(conn, ctx.timeouts.quietMs, ctx.timeouts.replyMs);
    const words = answers.records.map((r) => (r.type === FCGI_END_REQUEST ? `END_REQUEST ${protocolStatusName(decodeEndRequestBody(r.content).protocolStatus)}` : `type ${r.type}`));
    if (answers.closed) words.push(`connection closed (${answers.closed.how})`);
    // Requests with no PARAMS yet are simply open; refusals (FCGI_CANT_MPX_CONN, FCGI_OVERLOADED) and a close are
    // all defensible answers to a web server that should never do this.
    observeCounts(ctx.check, `answers to ${STORM} BEGIN_REQUEST records`, words);
    conn.close();
    await expectFreshServed(ctx, 'FCGI-3.5-accept-after-close', `after a connection with ${STORM} requests begun and dropped`);
  },
});

const CHURN = 200;
const BATCH = 25;

const churn = defineScenario({
  id: 'robustness.connection-churn',
  title: `survives ${CHURN} connections opened and dropped at once, empty or after part of a request`,
  group: 'robustness',
  requirements: ['FCGI-3.5-accept-after-close'],
  hostile: true,
  timeoutMs: 30_000,
  async run(ctx) {
    const partial = encodePlan(ctx, { requestId: 1, params: [['CONTENT_LENGTH', '10']], omit: { stdinEnd: true } });
    let refused = 0;
    for (let done = 0; done < CHURN; done += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, CHURN - done) }, async (_, i) => {
        let conn: ScenarioConnection;
        try {
          conn = await ctx.connect();
        } catch (err) {
          if (!(err instanceof HarnessError && err.code === 'E_CONNECT')) throw err;
          refused++;
          return;
        }
        if ((done + i) % 2 === 1) await conn.send(partial.subarray(0, 8 + ((done + i) % partial.length)));
        conn.close();
      });
      await Promise.all(batch);
    }
    // §3.2 lets an application take connections one at a time; connecting still works through the listen
    // backlog, so refusals are recorded, not judged.
    ctx.check.observe('connections refused while opening', refused);
    await expectFreshServed(ctx, 'FCGI-3.5-accept-after-close', `after ${CHURN} connections opened and dropped`);
  },
});

const SLEEP_MS = 300;

const closeWhileHandlerRuns = defineScenario({
  id: 'robustness.close-while-handler-runs',
  title: 'survives connections closed while their handler runs, its output then going nowhere',
  group: 'robustness',
  requirements: ['FCGI-3.5-accept-after-close'],
  needs: { probe: true },
  hostile: true,
  timeoutMs: 15_000,
  async run(ctx) {
    const sleepMs = ctx.timeouts.scale(SLEEP_MS);
    // All five at once (§3.2 lets the application take them in turn): each request is on the wire, its handler
    // asleep, when its connection closes.
    const conns = await Promise.all(
      Array.from({ length: 5 }, async (_, i) => {
        const conn = await ctx.connect();
        await conn.send(encodePlan(ctx, { requestId: 1, flags: i % 2 ? FCGI_KEEP_CONN : 0, params: probe.sleep(sleepMs) }));
        return conn;
      }),
    );
    await settle(ctx);
    for (const conn of conns) conn.close();
    // Let every handler wake up and write into its closed connection (EPIPE, SIGPIPE).
    await ctx.sleep(sleepMs + ctx.timeouts.quietMs);
    await expectFreshServed(ctx, 'FCGI-3.5-accept-after-close', 'after five connections closed while their handler slept');
  },
});

const BULK = 64 * 1024 * 1024;

const closeDuringOutput = defineScenario({
  id: 'robustness.close-during-output',
  title: `survives a connection closed after the first record of a ${formatSize(BULK)} response`,
  group: 'robustness',
  requirements: ['FCGI-3.5-accept-after-close'],
  needs: { probe: true },
  hostile: true,
  timeoutMs: 15_000,
  async run(ctx) {
    const conn = await ctx.connect();
    await conn.send(encodePlan(ctx, { requestId: 1, params: probe.bulk(BULK) }));
    const first = await conn.nextEvent(ctx.timeouts.replyMs);
    ctx.check.observe('first event of the response', first.kind === 'record' ? (first.record.type === FCGI_STDOUT ? 'FCGI_STDOUT' : `type ${first.record.type}`) : first.kind);
    conn.close();
    await ctx.sleep(ctx.timeouts.quietMs);
    await expectFreshServed(ctx, 'FCGI-3.5-accept-after-close', 'after a connection closed in the middle of a large response');
  },
});

export const loadScenarios: readonly Scenario[] = [beginStorm, churn, closeWhileHandlerRuns, closeDuringOutput];
