/**
 * Which request an abort reaches: none when its id is not active (never begun, or already ended), only its
 * own when several run on one connection. @see §5.4, §3.3 "Managing Request IDs"
 */
import { FCGI_KEEP_CONN, FCGI_REQUEST_COMPLETE } from '../../spec/constants.ts';
import { defineScenario, type Scenario } from '../define.ts';
import { describeObservation, encodePlan, expectServed, probe, sendAndRead } from '../kit.ts';
import { abortRecord, collectFor, describeQuiet, endingWord, expectBaseline, readTimed } from '../kit-flow.ts';
import { abortAndJudge } from './phases.scenario.ts';

const neverBegun = defineScenario({
  id: 'abort.never-begun',
  title: 'ignores FCGI_ABORT_REQUEST for ids never begun, then serves a request on the connection',
  group: 'abort',
  requirements: ['FCGI-3.3-inactive-id-ignored'],
  async run(ctx) {
    const conn = await ctx.connect();
    for (const id of [5, 1, 0x0100, 65535]) await conn.sendRecord(abortRecord(id));
    const quiet = await collectFor(conn, ctx.timeouts.quietMs);
    // §3.3: "While a request ID R is inactive, the application ignores records with requestId == R, except for
    // FCGI_BEGIN_REQUEST records as just described."
    ctx.check.that(
      quiet.records.length === 0 && !quiet.closed,
      'FCGI-3.3-inactive-id-ignored',
      'no answer and no close for FCGI_ABORT_REQUEST on ids 5, 1, 256 and 65535, none of them begun',
      describeQuiet(quiet),
    );
    if (quiet.closed) return;
    const { obs } = await sendAndRead(conn, { requestId: 1 });
    expectServed(ctx.check, obs, 'FCGI-3.3-inactive-id-ignored', 'request 1, after the stray aborts on the same connection');
  },
});

const afterEnd = defineScenario({
  id: 'abort.after-end',
  title: 'ignores FCGI_ABORT_REQUEST for a request that already ended, on a kept connection',
  group: 'abort',
  requirements: ['FCGI-3.3-inactive-id-ignored', 'FCGI-3.3-no-records-after-end'],
  needs: { keepConn: true },
  async run(ctx) {
    const conn = await ctx.connect();
    const first = await sendAndRead(conn, { requestId: 1, flags: FCGI_KEEP_CONN });
    if (!expectBaseline(ctx, first.obs, 'request 1 (FCGI_KEEP_CONN)')) return;
    // The web server's abort crossed the application's FCGI_END_REQUEST: a race every multiplexing web server
    // meets when a client goes away just as its response completes.
    await conn.sendRecord(abortRecord(1));
    const quiet = await collectFor(conn, ctx.timeouts.quietMs);
    // §3.3: the id "becomes inactive when the application sends a record {FCGI_END_REQUEST, R, ...}", and
    // "While a request ID R is inactive, the application ignores records with requestId == R".
    ctx.check.that(
      quiet.records.length === 0 && !quiet.closed,
      'FCGI-3.3-inactive-id-ignored',
      'no answer and no close for FCGI_ABORT_REQUEST on request 1 after its FCGI_END_REQUEST',
      describeQuiet(quiet),
    );
    if (quiet.closed) return;
    const again = await sendAndRead(conn, { requestId: 1, flags: FCGI_KEEP_CONN });
    expectServed(ctx.check, again.obs, 'FCGI-3.3-inactive-id-ignored', 'request 1 begun again after the late abort');
  },
});

const SLEEP_MS = 1000;

const oneOfMany = defineScenario({
  id: 'abort.one-of-many',
  title: 'ends only the aborted request of three running on one connection; the other two complete',
  group: 'abort',
  requirements: ['FCGI-5.4-abort-ends-request', 'FCGI-B-multiplexed-app'],
  needs: { multiplex: true, probe: true },
  timeoutMs: 15_000,
  async run(ctx) {
    const conn = await ctx.connect();
    const sleepMs = ctx.timeouts.scale(SLEEP_MS);
    const t0 = performance.now();
    for (const id of [1, 2, 3]) await conn.send(encodePlan(ctx, { requestId: id, flags: FCGI_KEEP_CONN, params: probe.sleep(sleepMs) }));
    const others = [1, 3].map((id) => readTimed(conn, id, sleepMs + ctx.timeouts.replyMs * 2, t0));
    const early = await conn.readResponse(2, ctx.timeouts.quietMs);
    if (early.ending !== 'timeout') return ctx.skip(`request 2 ended before it could be aborted (did the handler sleep?): ${describeObservation(early)}`);
    // §5.4: "with multiplexed requests, closing the transport connection has the unfortunate effect of
    // aborting all the requests on the connection": FCGI_ABORT_REQUEST aborts one.
    // An application that ignores the abort ends request 2 when its sleep does: the deadline must fall well
    // before that, measured from now (a loaded harness sends the abort late), or such an application would pass.
    const remainingMs = sleepMs - (performance.now() - t0);
    if (remainingMs < ctx.timeouts.scale(200)) return ctx.skip(`the abort could not be sent well before request 2's sleep ends (${Math.round(remainingMs)} ms left)`);
    const aborted = await abortAndJudge(ctx, conn, 2, FCGI_KEEP_CONN, `request 2 of 3, each sleeping ${sleepMs} ms`, {
      withinMs: Math.max(1, Math.min(ctx.timeouts.replyMs, Math.floor(remainingMs / 2))),
      followUp: false,
    });
    const [first, third] = await Promise.all(others);
    for (const r of [first!, third!]) {
      ctx.check.observe(`request ${r.obs.requestId} ended at`, `${r.atMs} ms (${endingWord(r.obs)})`);
      const ok = r.obs.ending === 'end-request' && r.obs.end?.protocolStatus === FCGI_REQUEST_COMPLETE;
      // Appendix B example 4: the other requests on the connection go on to their normal end.
      ctx.check.that(ok, 'FCGI-B-multiplexed-app', `request ${r.obs.requestId} (not aborted) served`, endingWord(r.obs));
    }
    if (aborted.ending !== 'end-request') return;
    const next = await sendAndRead(conn, { requestId: 2, flags: FCGI_KEEP_CONN });
    expectServed(ctx.check, next.obs, 'FCGI-5.1-keep-conn-set-stays-open', 'request 2 begun again after its abort');
  },
});

export const idScenarios: readonly Scenario[] = [neverBegun, afterEnd, oneOfMany];
