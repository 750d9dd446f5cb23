/**
 * Records for inactive ids are ignored: stream records and aborts for an id never begun, or for one whose
 * request has ended, produce no answer, do not close the connection, and leak into no later request.
 * @see §3.3 "While a request ID R is inactive, the application ignores records with requestId == R, except for
 * FCGI_BEGIN_REQUEST records as just described."
 */
import { FCGI_DATA, FCGI_KEEP_CONN, FCGI_PARAMS, FCGI_STDIN } from '../../spec/constants.ts';
import { encodeNameValuePair } from '../../reference/codec/name-value.ts';
import { concatBytes, encodeStream, type RecordInit } from '../../reference/codec/record.ts';
import { defineScenario, type Scenario } from '../define.ts';
import {
  encodeRecords,
  expectEchoOrServed,
  sendAndRead,
  streamEnd,
  utf8,
  variantId,
  variantNeeds,
  variantTitle,
  variants,
  type Variant,
} from '../kit.ts';
import { abortRecord, collectFor, describeQuiet, echoPlan, expectBaseline, heldRequest } from '../kit-flow.ts';

/** Every kind of record a web server sends on a request id, none of them BEGIN_REQUEST, for `id`. */
function strays(id: number): RecordInit[] {
  return [
    { type: FCGI_PARAMS, requestId: id, content: encodeNameValuePair('FCGISPEC_STRAY', `param for inactive id ${id}`) },
    streamEnd(FCGI_PARAMS, id),
    { type: FCGI_STDIN, requestId: id, content: utf8(`STRAY STDIN FOR ID ${id}`) },
    streamEnd(FCGI_STDIN, id),
    { type: FCGI_DATA, requestId: id, content: utf8(`STRAY DATA FOR ID ${id}`) },
    streamEnd(FCGI_DATA, id),
    abortRecord(id),
  ];
}

function neverBegun(variant: Variant): Scenario {
  const ids = [7, 1, 65535];
  return defineScenario({
    id: variantId('request-ids.never-begun', variant),
    title: variantTitle(`ignores PARAMS, STDIN, DATA and ABORT records for ids never begun (${ids.join(', ')}), then serves request 1`, variant),
    group: 'request-ids',
    requirements: ['FCGI-3.3-inactive-id-ignored'],
    needs: variantNeeds(variant),
    async run(ctx) {
      const conn = await ctx.connect();
      await conn.send(encodeRecords(ids.flatMap(strays)));
      const quiet = await collectFor(conn, ctx.timeouts.quietMs);
      // §3.3: "the application ignores records with requestId == R": no answer, no close.
      ctx.check.that(
        quiet.records.length === 0 && !quiet.closed,
        'FCGI-3.3-inactive-id-ignored',
        `nothing in answer to ${ids.length * 7} records for ids ${ids.join(', ')}, none of them begun`,
        describeQuiet(quiet),
      );
      if (quiet.closed) return;
      // Request 1 after stray STDIN for id 1: its body must be its own, not the stray bytes before it.
      const body = utf8('the real body of request 1\n');
      const { obs } = await sendAndRead(conn, echoPlan(variant, 1, body));
      expectEchoOrServed(ctx.check, variant, obs, body, 'FCGI-3.3-inactive-id-ignored', 'request 1, after stray records for ids 7, 1 and 65535');
    },
  });
}

function afterEnd(variant: Variant): Scenario {
  return defineScenario({
    id: variantId('request-ids.after-end', variant),
    title: variantTitle('ignores PARAMS, STDIN, DATA and ABORT records for a request that has ended, on a kept connection', variant),
    group: 'request-ids',
    requirements: ['FCGI-3.3-inactive-id-ignored'],
    needs: variantNeeds(variant, { keepConn: true }),
    async run(ctx) {
      const conn = await ctx.connect();
      const first = await sendAndRead(conn, echoPlan(variant, 1, utf8('request 1\n'), FCGI_KEEP_CONN));
      if (!expectBaseline(ctx, first.obs, 'request 1 (FCGI_KEEP_CONN)')) return;
      // Late records of the ended request: a web server still flushing input after the application answered.
      await conn.send(encodeRecords(strays(1)));
      const quiet = await collectFor(conn, ctx.timeouts.quietMs);
      // §3.3: the id "becomes inactive when the application sends a record {FCGI_END_REQUEST, R, ...}".
      ctx.check.that(
        quiet.records.length === 0 && !quiet.closed,
        'FCGI-3.3-inactive-id-ignored',
        'nothing in answer to 7 records for request 1 after its FCGI_END_REQUEST',
        describeQuiet(quiet),
      );
      if (quiet.closed) return;
      const body = utf8('request 1 begun again\n');
      const { obs } = await sendAndRead(conn, echoPlan(variant, 1, body, FCGI_KEEP_CONN));
      expectEchoOrServed(ctx.check, variant, obs, body, 'FCGI-3.3-inactive-id-ignored', 'request 1 begun again after the stray records');
    },
  });
}

function duringRequest(variant: Variant): Scenario {
  return defineScenario({
    id: variantId('request-ids.other-id-during-request', variant),
    title: variantTitle("ignores records for a never-begun id that arrive between an active request's records", variant),
    group: 'request-ids',
    requirements: ['FCGI-3.3-inactive-id-ignored'],
    needs: variantNeeds(variant),
    async run(ctx) {
      const conn = await ctx.connect();
      const body = concatBytes([utf8('part one of request 1; '), utf8('part two of request 1\n')]);
      const plan = echoPlan(variant, 1, body);
      // Request 1 up to the first half of its body, the strays for id 9, then the rest of request 1.
      const held = heldRequest(ctx, { ...plan, stdin: body.subarray(0, 23) });
      await conn.send(concatBytes([held, encodeRecords(strays(9)), encodeStream(FCGI_STDIN, 1, body.subarray(23))]));
      const obs = await conn.readResponse(1, ctx.timeouts.replyMs);
      // §3.3: "An application also has the option of accepting only one request at a time. In this case the
      // application simply checks incoming requestId values against the current request ID." Either way the
      // records for id 9 are ignored and do not reach request 1.
      expectEchoOrServed(ctx.check, variant, obs, body, 'FCGI-3.3-inactive-id-ignored', 'request 1, with records for the inactive id 9 between its own');
      const quiet = await collectFor(conn, ctx.timeouts.quietMs);
      const answered = quiet.records.filter((r) => r.requestId === 9);
      ctx.check.that(answered.length === 0, 'FCGI-3.3-inactive-id-ignored', 'no record on request id 9', describeQuiet({ records: answered }));
    },
  });
}

export const inactiveScenarios: readonly Scenario[] = [...variants.map(neverBegun), ...variants.map(afterEnd), ...variants.map(duringRequest)];
