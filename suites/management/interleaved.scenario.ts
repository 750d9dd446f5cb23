/**
 * Management records at any time: between a request's records, between two requests on a kept connection, and
 * while a request's handler is busy. The answer comes promptly, from the library, without disturbing the
 * request. @see §4.1 "An application may receive a FCGI_GET_VALUES record at any time."
 */
import { FCGI_KEEP_CONN, FCGI_MPXS_CONNS, FCGI_NULL_REQUEST_ID, FCGI_STDIN } from '../../spec/constants.ts';
import { defineScenario, type Scenario } from '../define.ts';
import {
  bodyParams,
  describeEvent,
  encodePlan,
  encodeRecords,
  expectEchoOrServed,
  expectServed,
  expectUnknownType,
  getValuesNames,
  getValuesRecord,
  keptConnectionProblem,
  patternBytes,
  probe,
  queryValues,
  readGetValuesResult,
  sendAndRead,
  variantId,
  variantNeeds,
  variantTitle,
  variants,
  type Variant,
} from '../kit.ts';
import { encodeStream } from '../../reference/codec/record.ts';

function duringRequest(variant: Variant): Scenario {
  return defineScenario({
    id: variantId('management.during-request', variant),
    title: variantTitle("answers FCGI_GET_VALUES and an unknown type sent between a request's PARAMS and STDIN", variant),
    group: 'management',
    requirements: ['FCGI-4.1-get-values-any-time', 'FCGI-4.2-unknown-type-reply'],
    needs: variantNeeds(variant),
    async run(ctx) {
      const conn = await ctx.connect();
      const body = patternBytes(300, 0x0600);
      const plan = { requestId: 1, params: [...bodyParams(body.length), ...(variant === 'probe' ? probe.echoStdin() : [])], stdin: body };
      // BEGIN_REQUEST and the whole PARAMS stream, then the management records, then wait for their answers
      // before sending STDIN: an application that answers only when more bytes arrive (libfcgi) shows here.
      await conn.send(encodePlan(ctx, { ...plan, omit: { stdin: true } }));
      await conn.send(encodeRecords([getValuesRecord([FCGI_MPXS_CONNS]), { type: 42, requestId: FCGI_NULL_REQUEST_ID }]));
      const answer = await readGetValuesResult(conn, ctx.timeouts.replyMs);
      // §4.1: "An application may receive a FCGI_GET_VALUES record at any time."
      ctx.check.that(
        answer.kind === 'result',
        'FCGI-4.1-get-values-any-time',
        "{FCGI_GET_VALUES_RESULT, 0, …} while the request waits for STDIN, without the harness sending more",
        answer.kind === 'other' ? describeEvent(answer.event) : '',
      );
      // §4.2: "the application responds with {FCGI_UNKNOWN_TYPE, 0, {T}}."
      expectUnknownType(ctx.check, await conn.nextManagement(ctx.timeouts.replyMs), 42);
      const { obs } = await sendAndRead(conn, encodeStream(FCGI_STDIN, 1, body));
      // The request goes on as if nothing had come in between.
      expectEchoOrServed(ctx.check, variant, obs, body, 'FCGI-4.1-get-values-any-time', 'the request the management records interrupted');
    },
  });
}

const betweenRequests = defineScenario({
  id: 'management.between-requests',
  title: 'answers FCGI_GET_VALUES between two requests on a kept connection, and serves the second',
  group: 'management',
  requirements: ['FCGI-4.1-get-values-any-time'],
  needs: { keepConn: true },
  async run(ctx) {
    const conn = await ctx.connect();
    const first = await sendAndRead(conn, { requestId: 1, flags: FCGI_KEEP_CONN });
    if (!expectServed(ctx.check, first.obs, 'FCGI-4.1-get-values-any-time', 'the first request (FCGI_KEEP_CONN)')) return;
    if (await keptConnectionProblem(ctx, conn, 1)) ctx.skip('the kept connection cannot carry more (see the observation; the keep-conn group judges it)');
    // §4.1: "An application may receive a FCGI_GET_VALUES record at any time."
    const { answered } = await queryValues(ctx, conn, getValuesNames);
    if (!answered) return;
    const second = await sendAndRead(conn, { requestId: 1, flags: FCGI_KEEP_CONN });
    expectServed(ctx.check, second.obs, 'FCGI-4.1-get-values-any-time', 'the request after FCGI_GET_VALUES on the kept connection');
  },
});

/** How long the busy handler sleeps: far longer than a library takes to answer FCGI_GET_VALUES. */
const BUSY_MS = 1000;

const whileBusy = defineScenario({
  id: 'management.while-handler-busy',
  title: 'answers FCGI_GET_VALUES at once while a request handler is busy',
  group: 'management',
  requirements: ['FCGI-4.1-answered-by-library'],
  needs: { probe: true },
  timeoutMs: 20_000,
  async run(ctx) {
    const sleepMs = ctx.timeouts.scale(BUSY_MS);
    const busy = await ctx.connect();
    // The handler sleeps; its request is complete (STDIN ended), so only the library can answer now.
    const pending = sendAndRead(busy, { requestId: 1, params: probe.sleep(sleepMs) }, { timeoutMs: sleepMs + ctx.timeouts.replyMs * 2 });
    await ctx.sleep(Math.round(sleepMs / 10)); // let the handler start before asking
    // A multiplexing application can answer on the busy connection itself; otherwise ask on a second one.
    const asker = ctx.profile.multiplex ? busy : await ctx.connect();
    const where = ctx.profile.multiplex ? 'on the same connection' : 'on a second connection';
    await asker.sendRecord(getValuesRecord(getValuesNames));
    // Half the sleep, asked a tenth into it: an answer in time came while the handler had long to sleep still; an
    // application whose handler loop answers management records answers only once the request has ended.
    const withinMs = Math.round(sleepMs / 2);
    const answer = await readGetValuesResult(asker, withinMs);
    // §4.1: "The application's response should not involve the application proper but only the FastCGI library."
    ctx.check.that(
      answer.kind === 'result',
      'FCGI-4.1-answered-by-library',
      `{FCGI_GET_VALUES_RESULT, 0, …} ${where} within ${withinMs} ms while a handler sleeps ${sleepMs} ms`,
      answer.kind === 'other' ? describeEvent(answer.event) : '',
    );
    const done = await pending;
    if (answer.kind === 'other' && answer.event.kind === 'timeout') {
      const late = await readGetValuesResult(asker, ctx.timeouts.replyMs);
      ctx.check.observe('GET_VALUES while busy', late.kind === 'result' ? 'answered only after the handler finished' : 'not answered');
    }
    expectServed(ctx.check, done.obs, 'FCGI-4.1-answered-by-library', 'the sleeping request');
  },
});

export const interleavedScenarios: readonly Scenario[] = [...variants.map(duringRequest), betweenRequests, whileBusy];
