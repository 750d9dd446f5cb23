/**
 * An application that multiplexes (FCGI_MPXS_CONNS "1") serves concurrent requests on one connection: their
 * records interleaved as finely as a web server likes, each response on its own id with its own output, in
 * whatever order the requests finish. @see §3.3, §4.1 FCGI_MPXS_CONNS, Appendix B example 4
 */
import { FCGI_CANT_MPX_CONN, FCGI_KEEP_CONN, FCGI_OVERLOADED, FCGI_PARAMS, FCGI_REQUEST_COMPLETE, FCGI_STDIN } from '../../spec/constants.ts';
import { concatBytes, encodeStream } from '../../reference/codec/record.ts';
import { defineScenario, type Scenario } from '../define.ts';
import {
  beginRecord,
  encodePlan,
  encodeRecords,
  patternBytes,
  probe,
  relayout,
  summarizeFailures,
  utf8,
  variantId,
  variantNeeds,
  variantProblem,
  variantTitle,
  variants,
  withBaseParams,
  type Variant,
} from '../kit.ts';
import { echoPlan, endedBefore, endingWord, expectOpen, interleaveRecords, observeCounts, readResponses, readTimed, settle } from '../kit-flow.ts';
import { encodeNameValuePair } from '../../reference/codec/name-value.ts';

function exampleFour(variant: Variant): Scenario {
  return defineScenario({
    id: variantId('multiplexing.example-4', variant),
    title: variantTitle('serves two requests interleaved as in Appendix B example 4, finished in either order', variant),
    group: 'multiplexing',
    requirements: ['FCGI-B-multiplexed-app'],
    needs: variantNeeds(variant, { multiplex: true }),
    async run(ctx) {
      const conn = await ctx.connect();
      const bodies = [utf8('quantity=100&item=3047936'), utf8('the second request\n')];
      const paramsOf = (id: number): Uint8Array => {
        const pairs = withBaseParams(ctx, [
          ['SERVER_PORT', '80'],
          ['SERVER_ADDR', '199.170.183.42'],
          ['REQUEST_METHOD', 'POST'],
          ['CONTENT_LENGTH', String(bodies[id - 1]!.length)],
          ...(variant === 'probe' ? probe.echoStdin() : []),
        ]);
        return concatBytes(pairs.map((p) => encodeNameValuePair(p.name, p.value)));
      };
      const params = (id: number): Uint8Array => encodeRecords([{ type: FCGI_PARAMS, requestId: id, content: paramsOf(id) }]);
      const paramsEnd = (id: number): Uint8Array => encodeRecords([{ type: FCGI_PARAMS, requestId: id }]);
      const stdin = (id: number): Uint8Array => encodeStream(FCGI_STDIN, id, bodies[id - 1]!);
      // Appendix B example 4, the web server's records in order (each STDIN stream here carries a body before
      // its empty record, so the two responses differ):
      //   {FCGI_BEGIN_REQUEST, 1, {FCGI_RESPONDER, FCGI_KEEP_CONN}} {FCGI_PARAMS, 1, "…"} {FCGI_PARAMS, 1, ""}
      //   {FCGI_BEGIN_REQUEST, 2, {FCGI_RESPONDER, FCGI_KEEP_CONN}} {FCGI_PARAMS, 2, "…"} {FCGI_STDIN, 1, ""}
      //   {FCGI_PARAMS, 2, ""} {FCGI_STDIN, 2, ""}
      await conn.send(
        concatBytes([
          encodeRecords([beginRecord(1, { flags: FCGI_KEEP_CONN })]),
          params(1),
          paramsEnd(1),
          encodeRecords([beginRecord(2, { flags: FCGI_KEEP_CONN })]),
          params(2),
          stdin(1),
        ]),
      );
      await settle(ctx);
      await conn.send(concatBytes([paramsEnd(2), stdin(2)]));
      const [first, second] = await readResponses(conn, [1, 2], ctx.timeouts.replyMs);
      // Appendix B example 4: "Two instances of example 1, multiplexed onto a single connection. The first request
      // is more difficult than the second, so the application finishes the requests out of order". Either order.
      for (const [obs, i] of [[first!, 0], [second!, 1]] as const) {
        const problem = variantProblem(variant, obs, bodies[i]!);
        ctx.check.that(problem === undefined, 'FCGI-B-multiplexed-app', `request ${i + 1} of example 4 served with its own output`, problem ?? '');
      }
      if (ctx.profile.keepConn) await expectOpen(ctx, conn, 'FCGI-5.1-keep-conn-set-stays-open', 'after both requests of example 4 (FCGI_KEEP_CONN)');
    },
  });
}

/** N requests at once on one connection, their records interleaved one by one. */
function concurrent(count: number, variant: Variant): Scenario {
  return defineScenario({
    id: variantId(`multiplexing.concurrent-${count}`, variant),
    title: variantTitle(`serves ${count} concurrent requests on one connection, their records interleaved one by one`, variant),
    group: 'multiplexing',
    requirements: ['FCGI-B-multiplexed-app', 'FCGI-4.1-mpxs-conns'],
    needs: variantNeeds(variant, { multiplex: true }),
    timeoutMs: 15_000,
    async run(ctx) {
      const conn = await ctx.connect();
      const ids = Array.from({ length: count }, (_, i) => i + 1);
      const bodies = ids.map((id) => concatBytes([utf8(`request ${id} of ${count}\n`), patternBytes(200 + 37 * id, 0x5400 + id)]));
      // Each request's STDIN cut into 64-byte records, then every request's records taken in turn: BEGIN 1,
      // BEGIN 2, …, PARAMS 1, PARAMS 2, …, STDIN 1, STDIN 2, …
      const encoded = ids.map((id) => relayout(encodePlan(ctx, echoPlan(variant, id, bodies[id - 1]!, FCGI_KEEP_CONN)), { sizes: { [FCGI_STDIN]: [64] } }));
      await conn.send(interleaveRecords(encoded));
      const responses = await readResponses(conn, ids, ctx.timeouts.replyMs * 2);
      observeCounts(ctx.check, 'outcomes', responses.map(endingWord));

      const refusedMpx = responses.filter((o) => o.end?.protocolStatus === FCGI_CANT_MPX_CONN);
      const overloaded = responses.filter((o) => o.end?.protocolStatus === FCGI_OVERLOADED);
      // §4.1: FCGI_MPXS_CONNS "1": the application handles "concurrent requests over each connection".
      ctx.check.that(
        refusedMpx.length === 0,
        'FCGI-4.1-mpxs-conns',
        'no FCGI_CANT_MPX_CONN from an application that claims to multiplex',
        `${refusedMpx.length} of ${count} refused with FCGI_CANT_MPX_CONN (ids ${refusedMpx.map((o) => o.requestId).join(', ')})`,
      );
      // §5.5 FCGI_OVERLOADED is always allowed, but a target claiming FCGI_MAX_REQS ≥ count should not need it.
      const maxReqs = ctx.profile.maxReqs;
      if (overloaded.length > 0 && maxReqs !== undefined && maxReqs >= count) {
        ctx.check.violation(
          'FCGI-4.1-limit-values',
          `${count} concurrent requests accepted (FCGI_MAX_REQS ${maxReqs})`,
          `${overloaded.length} refused with FCGI_OVERLOADED`,
        );
      }
      const failed: number[] = [];
      const problems: string[] = [];
      for (const obs of responses) {
        const status = obs.end?.protocolStatus;
        if (obs.ending === 'end-request' && status !== FCGI_REQUEST_COMPLETE) continue; // refusals judged above
        const problem = variantProblem(variant, obs, bodies[obs.requestId - 1]!);
        if (problem !== undefined) {
          failed.push(obs.requestId);
          problems.push(problem);
        }
      }
      // Appendix B example 4, generalised: every request completes on its own id with its own output.
      ctx.check.that(
        failed.length === 0,
        'FCGI-B-multiplexed-app',
        `each of ${count} interleaved requests served on its own id with its own output`,
        failed.length ? `${summarizeFailures(failed.map((id) => `id ${id}`), count)}; first: ${problems[0]}` : '',
      );
      if (ctx.profile.keepConn && failed.length === 0) await expectOpen(ctx, conn, 'FCGI-5.1-keep-conn-set-stays-open', `after ${count} requests (FCGI_KEEP_CONN)`);
    },
  });
}

const SLEEP_MS = 1000;

/** A slow request first, quick ones after it: the quick ones must not wait for the slow one. */
const outOfOrder = defineScenario({
  id: 'multiplexing.out-of-order',
  title: 'finishes quick requests while a slow one begun before them on the same connection still runs',
  group: 'multiplexing',
  requirements: ['FCGI-B-multiplexed-app', 'FCGI-4.1-mpxs-conns'],
  needs: { multiplex: true, probe: true },
  timeoutMs: 15_000,
  async run(ctx) {
    const conn = await ctx.connect();
    const sleepMs = ctx.timeouts.scale(SLEEP_MS);
    const wait = sleepMs + ctx.timeouts.replyMs * 2;
    const t0 = performance.now();
    await conn.send(encodePlan(ctx, { requestId: 1, flags: FCGI_KEEP_CONN, params: probe.sleep(sleepMs) }));
    const slow = readTimed(conn, 1, wait, t0);
    await settle(ctx);
    const quickIds = [2, 3, 4];
    const bodies = quickIds.map((id) => utf8(`quick request ${id}\n`));
    await conn.send(concatBytes(quickIds.map((id, i) => encodePlan(ctx, echoPlan('probe', id, bodies[i]!, FCGI_KEEP_CONN)))));
    const quick = await Promise.all(quickIds.map((id) => readTimed(conn, id, wait, t0)));
    const slowDone = await slow;
    ctx.check.observe('slow request (sleep) ended at', `${slowDone.atMs} ms`);
    ctx.check.observe('quick requests ended at', quick.map((q) => `${q.atMs} ms`).join(', '));
    if (slowDone.obs.ending === 'end-request' && slowDone.atMs < sleepMs / 2) {
      return ctx.skip(`the slow request ended after ${slowDone.atMs} ms: its handler did not sleep ${sleepMs} ms (the probe's sleep action?)`);
    }
    // Appendix B example 4: "the application finishes the requests out of order"; all must complete.
    const slowProblem = slowDone.obs.ending === 'end-request' && slowDone.obs.end?.protocolStatus === FCGI_REQUEST_COMPLETE ? undefined : endingWord(slowDone.obs);
    ctx.check.that(slowProblem === undefined, 'FCGI-B-multiplexed-app', 'the slow request served', slowProblem ?? '');
    const bad = quick.flatMap((q, i) => {
      const p = variantProblem('probe', q.obs, bodies[i]!);
      return p === undefined ? [] : [`id ${quickIds[i]}: ${p}`];
    });
    ctx.check.that(bad.length === 0, 'FCGI-B-multiplexed-app', 'each quick request served with its own output', bad.join('; '));
    if (bad.length > 0 || slowProblem !== undefined) return;
    // §4.1 FCGI_MPXS_CONNS "1": the application handles "concurrent requests over each connection": quick
    // requests finishing only after the slow one means they were run one at a time.
    const late = quick.filter((q) => !endedBefore(q.obs, slowDone.obs));
    ctx.check.that(
      late.length === 0,
      'FCGI-4.1-mpxs-conns',
      `the quick requests finished before the slow one (sleeping ${sleepMs} ms) that began first`,
      `${late.length} of ${quick.length} finished only after it (at ${late.map((q) => q.atMs).join(', ')} ms; the slow one at ${slowDone.atMs} ms)`,
    );
  },
});

export const concurrentScenarios: readonly Scenario[] = [
  ...variants.map(exampleFour),
  ...[2, 8, 32].flatMap((n) => variants.map((v) => concurrent(n, v))),
  outOfOrder,
];
