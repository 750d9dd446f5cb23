/**
 * FCGI_ABORT_REQUEST at every phase of a request: before its params end, during its body, while its handler
 * runs, while its output flows. Each time the application ends the request promptly with one
 * FCGI_END_REQUEST {FCGI_REQUEST_COMPLETE}, sends nothing more for it, and the connection goes on as its
 * FCGI_KEEP_CONN flag says. @see §5.4
 */
import { FCGI_END_REQUEST, FCGI_KEEP_CONN, FCGI_REQUEST_COMPLETE, FCGI_STDOUT, protocolStatusName } from '../../spec/constants.ts';
import { defineScenario, type RequestPlan, type ResponseObservation, type Scenario, type ScenarioConnection, type ScenarioContext } from '../define.ts';
import { bodyParams, describeObservation, encodePlan, expectServed, formatSize, patternBytes, probe, sendAndRead } from '../kit.ts';
import { abortRecord, expectClosed, expectNothingAfterEnd } from '../kit-flow.ts';

/** The flags an abort scenario begins its request with: FCGI_KEEP_CONN when the target keeps connections. */
function abortFlags(ctx: ScenarioContext): number {
  return ctx.profile.keepConn ? FCGI_KEEP_CONN : 0;
}

/**
 * Sends FCGI_ABORT_REQUEST for `requestId` and judges the answer: one FCGI_END_REQUEST {FCGI_REQUEST_COMPLETE}
 * within `withinMs` (default: the reply time), nothing for the id after it, then the connection as the
 * request's flags say (a following request served, or the application's close). Returns the observation.
 */
export async function abortAndJudge(
  ctx: ScenarioContext,
  conn: ScenarioConnection,
  requestId: number,
  flags: number,
  what: string,
  options: { readonly withinMs?: number; readonly followUp?: boolean } = {},
): Promise<ResponseObservation> {
  const withinMs = options.withinMs ?? ctx.timeouts.replyMs;
  // An FCGI_END_REQUEST already received would pass for the answer to the abort: there is then nothing to test.
  if (conn.unclaimed().some((r) => r.requestId === requestId && r.type === FCGI_END_REQUEST)) {
    return ctx.skip(`request ${requestId} had ended before the abort could be sent (${what})`);
  }
  await conn.sendRecord(abortRecord(requestId));
  const obs = await conn.readResponse(requestId, withinMs);
  ctx.check.observe(`END_REQUEST after the abort (${what})`, obs.ending === 'end-request' ? `${Math.round(obs.elapsedMs)} ms` : obs.ending);
  // §5.4: "After receiving {FCGI_ABORT_REQUEST, R}, the application responds as soon as possible with
  // {FCGI_END_REQUEST, R, {FCGI_REQUEST_COMPLETE, appStatus}}."
  const ended = ctx.check.that(
    obs.ending === 'end-request',
    'FCGI-5.4-abort-ends-request',
    `${what}: {FCGI_END_REQUEST, ${requestId}, …} within ${withinMs} ms of the abort`,
    describeObservation(obs),
  );
  if (!ended) return obs;
  ctx.check.that(
    obs.end?.protocolStatus === FCGI_REQUEST_COMPLETE,
    'FCGI-5.4-abort-ends-request',
    `${what}: protocolStatus FCGI_REQUEST_COMPLETE`,
    protocolStatusName(obs.end?.protocolStatus ?? -1),
  );
  // §5.4: "This is truly a response from the application, not a low-level acknowledgement from the FastCGI
  // library": no second FCGI_END_REQUEST, no output after it (Go's library is reported to send both).
  await expectNothingAfterEnd(ctx, conn, obs, { once: 'FCGI-5.4-abort-is-response', after: 'FCGI-5.4-abort-is-response' });
  if (options.followUp === false) return obs;
  if (flags & FCGI_KEEP_CONN) {
    const next = await sendAndRead(conn, { requestId, flags: FCGI_KEEP_CONN });
    // §5.1: "If not zero, the application does not close the connection after responding to this request".
    expectServed(ctx.check, next.obs, 'FCGI-5.1-keep-conn-set-stays-open', `a request after the aborted one (${what}), on the kept connection`);
  } else {
    // §5.1: "If zero, the application closes the connection after responding to this request."
    await expectClosed(ctx, conn, 'FCGI-5.1-keep-conn-clear-closes', `after the aborted request (${what}), flags 0`);
  }
  return obs;
}

/** An abort scenario whose request is sent cut short as `plan` says (its `omit`), then aborted. */
function cutShort(
  id: `abort.${string}`,
  title: string,
  plan: RequestPlan,
  what: string,
  flags?: number,
): Scenario {
  return defineScenario({
    id,
    title,
    group: 'abort',
    requirements: ['FCGI-5.4-abort-ends-request', 'FCGI-5.4-abort-is-response'],
    async run(ctx) {
      const conn = await ctx.connect();
      const f = flags ?? abortFlags(ctx);
      await conn.send(encodePlan(ctx, { ...plan, flags: f }));
      const early = await conn.readResponse(1, ctx.timeouts.quietMs);
      if (early.records.length > 0 || early.ending === 'closed') {
        // The target answered (or closed) before the abort could be sent: not this scenario's question.
        ctx.skip(`the request was answered before it could be aborted: ${describeObservation(early)}`);
      }
      await abortAndJudge(ctx, conn, 1, f, what);
    },
  });
}

const BODY = 1000;

const duringParams = cutShort(
  'abort.during-params',
  'ends a request aborted before its FCGI_PARAMS stream ended',
  { requestId: 1, params: { FCGISPEC_PART: 'params not finished' }, omit: { paramsEnd: true, stdin: true } },
  'during FCGI_PARAMS',
);

const duringStdin = cutShort(
  'abort.during-stdin',
  'ends a request aborted while its FCGI_STDIN body is still coming',
  { requestId: 1, params: bodyParams(BODY), stdin: patternBytes(BODY / 10, 0x6100), omit: { stdinEnd: true } },
  `during FCGI_STDIN (${BODY / 10} of ${BODY} bytes sent)`,
);

const withoutKeepConn = cutShort(
  'abort.keep-conn-clear',
  'ends an aborted request with FCGI_END_REQUEST, then closes the connection (FCGI_KEEP_CONN clear)',
  { requestId: 1, params: bodyParams(BODY), stdin: patternBytes(BODY / 10, 0x6200), omit: { stdinEnd: true } },
  'during FCGI_STDIN, flags 0',
  0,
);

const twice = defineScenario({
  id: 'abort.twice',
  title: 'ends a request aborted twice in a row with one FCGI_END_REQUEST',
  group: 'abort',
  requirements: ['FCGI-5.4-abort-is-response', 'FCGI-5.5-end-request-once'],
  async run(ctx) {
    const conn = await ctx.connect();
    const flags = abortFlags(ctx);
    await conn.send(encodePlan(ctx, { requestId: 1, flags, params: bodyParams(BODY), stdin: patternBytes(10, 0x6300), omit: { stdinEnd: true } }));
    // The second abort arrives while the first is being answered, or after: for an inactive id it is ignored.
    await conn.sendRecord(abortRecord(1));
    await abortAndJudge(ctx, conn, 1, flags, 'two aborts back to back');
  },
});

const SLEEP_MS = 5000;

const whileHandlerRuns = defineScenario({
  id: 'abort.while-handler-runs',
  title: `ends a request promptly when aborted while its handler runs (a ${SLEEP_MS} ms sleep)`,
  group: 'abort',
  requirements: ['FCGI-5.4-abort-ends-request', 'FCGI-5.4-abort-is-response'],
  needs: { probe: true },
  timeoutMs: 25_000,
  async run(ctx) {
    const conn = await ctx.connect();
    const flags = abortFlags(ctx);
    const sleepMs = ctx.timeouts.scale(SLEEP_MS);
    // The whole request is sent, STDIN ended: only the handler keeps it active.
    await conn.send(encodePlan(ctx, { requestId: 1, flags, params: probe.sleep(sleepMs) }));
    const early = await conn.readResponse(1, ctx.timeouts.quietMs);
    if (early.ending !== 'timeout') return ctx.skip(`the request ended before it could be aborted (did the handler sleep?): ${describeObservation(early)}`);
    const obs = await abortAndJudge(ctx, conn, 1, flags, `while the handler sleeps ${sleepMs} ms`, { followUp: false });
    if (obs.ending === 'timeout') {
      // How late, if at all? An application that lets the handler finish answers after the sleep.
      const late = await conn.readResponse(1, sleepMs + ctx.timeouts.replyMs);
      const at = Math.round(obs.elapsedMs + late.elapsedMs);
      ctx.check.observe('END_REQUEST after the abort, waited for', late.ending === 'end-request' ? `${at} ms (the handler ran to its end)` : `never (${late.ending} after ${at} ms)`);
      return;
    }
    if (obs.ending !== 'end-request') return;
    if (flags & FCGI_KEEP_CONN) {
      const next = await sendAndRead(conn, { requestId: 1, flags });
      expectServed(ctx.check, next.obs, 'FCGI-5.1-keep-conn-set-stays-open', 'a request after the aborted one, on the kept connection');
    }
  },
});

const BULK = 32 * 1024 * 1024;

const whileOutputFlows = defineScenario({
  id: 'abort.while-output-flows',
  title: `ends a request aborted while it writes a ${formatSize(BULK)} response`,
  group: 'abort',
  requirements: ['FCGI-5.4-abort-ends-request', 'FCGI-5.4-abort-is-response'],
  needs: { probe: true },
  timeoutMs: 30_000,
  async run(ctx) {
    const conn = await ctx.connect();
    const flags = abortFlags(ctx);
    await conn.send(encodePlan(ctx, { requestId: 1, flags, params: probe.bulk(BULK) }));
    // Wait for the output to start; this read takes the first record outside `readResponse`, so count it here.
    const first = await conn.nextEvent(ctx.timeouts.replyMs);
    if (first.kind !== 'record' || first.record.requestId !== 1 || first.record.type !== FCGI_STDOUT) {
      return ctx.skip(`the response did not start with FCGI_STDOUT for request 1: ${first.kind === 'record' ? `type ${first.record.type}, id ${first.record.requestId}` : first.kind}`);
    }
    // A probe that refused the size (a short error page) has already ended: nothing to abort.
    if (conn.unclaimed().some((r) => r.requestId === 1 && r.type === FCGI_END_REQUEST)) {
      return ctx.skip('the response had ended before the abort could be sent (is the probe\'s bulk action available?)');
    }
    const obs = await abortAndJudge(ctx, conn, 1, flags, 'while the response is being written', { withinMs: ctx.timeouts.replyMs * 2 });
    const received = first.record.content.length + obs.stdout.length;
    ctx.check.observe('FCGI_STDOUT received of the response', `${formatSize(received)} of about ${formatSize(BULK)}`);
    // All of it means the abort changed nothing (or came too late to); recorded, since in-flight output is
    // allowed and "as soon as possible" cannot be timed more finely here.
    if (obs.ending === 'end-request' && received >= BULK) ctx.check.observe('abort effect', 'none seen: the whole response was written');
  },
});

export const phaseScenarios: readonly Scenario[] = [duringParams, duringStdin, withoutKeepConn, twice, whileHandlerRuns, whileOutputFlows];
