/**
 * FCGI_UNKNOWN_TYPE: a management record of a type the application does not understand is answered with
 * {FCGI_UNKNOWN_TYPE, 0, {T}}, its content and padding skipped, the connection kept. @see §4.2
 */
import { FCGI_GET_VALUES_RESULT, FCGI_NULL_REQUEST_ID, FCGI_UNKNOWN_TYPE } from '../../spec/constants.ts';
import { encodeNameValuePairs } from '../../reference/codec/name-value.ts';
import { encodeUnknownTypeBody } from '../../reference/codec/bodies.ts';
import type { RecordInit } from '../../reference/codec/record.ts';
import { defineScenario, type Scenario, type ScenarioContext } from '../define.ts';
import { describeEvent, encodeRecords, expectServed, expectUnknownType, patternBytes, sendAndRead } from '../kit.ts';

/** Sends each record in turn, expects `{FCGI_UNKNOWN_TYPE, 0, {type}}` for each, then a request on the same connection. */
async function answerEach(ctx: ScenarioContext, records: readonly RecordInit[], what: string): Promise<void> {
  const conn = await ctx.connect();
  for (const record of records) {
    await conn.send(encodeRecords([record], { paddingByte: 0xaa }));
    const event = await conn.nextManagement(ctx.timeouts.replyMs);
    // §4.2: "When an application receives a management record whose type T it does not understand, the
    // application responds with {FCGI_UNKNOWN_TYPE, 0, {T}}."
    expectUnknownType(ctx.check, event, record.type);
    if (event.kind === 'closed') return;
  }
  // The unknown records' content and padding must have been skipped exactly: a request on the connection is served.
  const { obs } = await sendAndRead(conn, { requestId: 1 });
  expectServed(ctx.check, obs, 'FCGI-4.2-unknown-type-reply', `a request after ${what} on the same connection`);
}

const empty = defineScenario({
  id: 'management.unknown-type.empty',
  title: 'answers empty management records of types 12, 42 and 255 with FCGI_UNKNOWN_TYPE',
  group: 'management',
  requirements: ['FCGI-4.2-unknown-type-reply', 'FCGI-4.2-unknown-type-body', 'FCGI-4.2-unknown-type-reserved-zero'],
  async run(ctx) {
    const records = [12, 42, 255].map((type) => ({ type, requestId: FCGI_NULL_REQUEST_ID }));
    await answerEach(ctx, records, 'empty records of types 12, 42 and 255');
  },
});

const withContent = defineScenario({
  id: 'management.unknown-type.with-content',
  title: 'skips the content and padding of unknown management records, answering each',
  group: 'management',
  requirements: ['FCGI-4.2-unknown-type-reply', 'FCGI-4.2-unknown-type-body', 'FCGI-3.3-padding-discarded'],
  async run(ctx) {
    // libfcgi drops the connection when an unknown management record has a body.
    const records: RecordInit[] = [
      { type: 42, requestId: FCGI_NULL_REQUEST_ID, content: patternBytes(8, 42), paddingLength: 7 },
      { type: 12, requestId: FCGI_NULL_REQUEST_ID, content: patternBytes(1000, 12), paddingLength: 0 },
      { type: 255, requestId: FCGI_NULL_REQUEST_ID, content: patternBytes(65535, 255), paddingLength: 255 },
    ];
    await answerEach(ctx, records, 'unknown records with 8, 1000 and 65535 content bytes');
  },
});

const serverBound = defineScenario({
  id: 'management.unknown-type.server-bound-types',
  title: 'answers FCGI_GET_VALUES_RESULT and FCGI_UNKNOWN_TYPE sent to it with FCGI_UNKNOWN_TYPE',
  group: 'management',
  requirements: ['FCGI-4.2-server-bound-types-unknown'],
  async run(ctx) {
    // Appendix A: these two management types travel only from the application to the web server, so an
    // application receiving one does not understand it (the catalog's reading: answer FCGI_UNKNOWN_TYPE).
    for (const record of [
      { type: FCGI_GET_VALUES_RESULT, requestId: FCGI_NULL_REQUEST_ID, content: encodeNameValuePairs({ FCGI_MAX_CONNS: '1' }) },
      { type: FCGI_UNKNOWN_TYPE, requestId: FCGI_NULL_REQUEST_ID, content: encodeUnknownTypeBody({ type: 42 }) },
    ]) {
      const conn = await ctx.connect();
      await conn.sendRecord(record);
      const event = await conn.nextManagement(ctx.timeouts.replyMs);
      if (event.kind !== 'record') conn.note(`type ${record.type}: ${describeEvent(event)}`);
      expectUnknownType(ctx.check, event, record.type, 'FCGI-4.2-server-bound-types-unknown');
      conn.close();
    }
  },
});

export const unknownTypeScenarios: readonly Scenario[] = [empty, withContent, serverBound];
