/**
 * Ids used where the spec gives them no meaning: a request on the null id, a management record on a request
 * id, a second FCGI_BEGIN_REQUEST for an id already active. The spec leaves the handling open, so these
 * record what the application does; the one rule is that it never answers with application records on id 0.
 * @see §3.3 "Managing Request IDs", "Types of Record Types"
 */
import {
  FCGI_END_REQUEST,
  FCGI_GET_VALUES_RESULT,
  FCGI_KEEP_CONN,
  FCGI_MPXS_CONNS,
  FCGI_NULL_REQUEST_ID,
  FCGI_STDERR,
  FCGI_STDIN,
  FCGI_STDOUT,
  FCGI_UNKNOWN_TYPE,
  protocolStatusName,
} from '../../spec/constants.ts';
import { decodeUnknownTypeBody } from '../../reference/codec/bodies.ts';
import { encodeStream, type DecodedRecord } from '../../reference/codec/record.ts';
import { defineScenario, type ResponseObservation, type Scenario } from '../define.ts';
import { bodyParams, cgiOf, describeObservation, encodePlan, getValuesRecord, preview, probe, sendAndRead, utf8 } from '../kit.ts';
import { collectFor, describeQuiet, endingWord, expectFreshServed, heldRequest } from '../kit-flow.ts';

/** Application records on the null id: what §3.3 forbids a sender. */
function applicationRecordsOnNullId(records: readonly DecodedRecord[]): DecodedRecord[] {
  return records.filter((r) => r.requestId === FCGI_NULL_REQUEST_ID && (r.type === FCGI_STDOUT || r.type === FCGI_STDERR || r.type === FCGI_END_REQUEST));
}

/** How the application answered records it should not have got, in a few words. */
function answerWords(records: readonly DecodedRecord[], closed: boolean): string {
  const onNull = applicationRecordsOnNullId(records);
  const unknown = records.filter((r) => r.type === FCGI_UNKNOWN_TYPE);
  const parts: string[] = [];
  if (onNull.length) parts.push(`served on id 0 (${onNull.length} application records)`);
  if (unknown.length) parts.push(`FCGI_UNKNOWN_TYPE {${unknown.map((r) => decodeUnknownTypeBody(r.content).type).join(', ')}}`);
  const rest = records.length - onNull.length - unknown.length;
  if (rest > 0) parts.push(`${rest} other record(s)`);
  if (closed) parts.push('closed the connection');
  return parts.length ? parts.join('; ') : 'ignored';
}

const beginOnNullId = defineScenario({
  id: 'request-ids.begin-on-null-id',
  title: 'does not serve a request begun on request id 0, and goes on serving',
  group: 'request-ids',
  requirements: ['FCGI-3.3-management-null-id', 'FCGI-X-wrong-id-class'],
  hostile: true,
  async run(ctx) {
    const conn = await ctx.connect();
    const flags = ctx.profile.keepConn ? FCGI_KEEP_CONN : 0;
    // {FCGI_BEGIN_REQUEST, 0, {FCGI_RESPONDER, FCGI_KEEP_CONN}} with its PARAMS and STDIN, then a valid request 1.
    await conn.send(encodePlan(ctx, { requestId: FCGI_NULL_REQUEST_ID, flags: FCGI_KEEP_CONN }));
    await conn.send(encodePlan(ctx, { requestId: 1, flags }));
    const valid = await conn.readResponse(1, ctx.timeouts.replyMs);
    const rest = await collectFor(conn, ctx.timeouts.quietMs);
    const onNull = applicationRecordsOnNullId(rest.records);
    ctx.check.observe('BEGIN_REQUEST on request id 0', answerWords(rest.records, rest.closed !== undefined || valid.ending === 'closed'));
    // §3.3: "Management records have a requestId value of zero, also called the null request ID. Application
    // records have a nonzero requestId." An application that served the request answers with FCGI_STDOUT and
    // FCGI_END_REQUEST on id 0: application records on the null id. Refusing, ignoring or closing are all fine.
    ctx.check.that(
      onNull.length === 0,
      'FCGI-3.3-management-null-id',
      'no FCGI_STDOUT, FCGI_STDERR or FCGI_END_REQUEST on request id 0',
      describeQuiet({ records: onNull }),
    );
    ctx.check.observe('request 1 after it, on the same connection', valid.ending === 'end-request' ? endingWord(valid) : valid.ending);
    if (valid.ending !== 'end-request') {
      // The spec gives no handling for this input: recorded (info), then a fresh connection must be served.
      ctx.check.violation('FCGI-X-wrong-id-class', 'request 1 served on the connection that carried a request on id 0 (the suite\'s position)', describeObservation(valid));
      conn.close();
      await expectFreshServed(ctx, 'FCGI-3.5-accept-after-close', 'after the connection with a request on id 0');
    }
  },
});

const getValuesOnRequestId = defineScenario({
  id: 'request-ids.get-values-on-request-id',
  title: 'records what FCGI_GET_VALUES on request id 1 gets, with no request active and during request 1',
  group: 'request-ids',
  requirements: ['FCGI-X-wrong-id-class'],
  hostile: true,
  async run(ctx) {
    const conn = await ctx.connect();
    const query = { ...getValuesRecord([FCGI_MPXS_CONNS]), requestId: 1 };
    await conn.sendRecord(query);
    const idle = await collectFor(conn, ctx.timeouts.quietMs);
    ctx.check.observe('{FCGI_GET_VALUES, 1} with no request active', describeGetValuesAnswer(idle.records, idle.closed !== undefined));
    if (idle.closed) {
      await expectFreshServed(ctx, 'FCGI-3.5-accept-after-close', 'after the connection closed on {FCGI_GET_VALUES, 1}');
      return;
    }

    // During request 1: between its body and the end of its STDIN. Not a management record (§3.3: those have
    // the null id), and for the active id 1 not a type the request uses either.
    const body = utf8('request 1 with a query on its id\n');
    await conn.send(heldRequest(ctx, { requestId: 1, params: [...bodyParams(body.length), ...(ctx.profile.probe ? probe.echoStdin() : [])], stdin: body }));
    await conn.sendRecord(query);
    await conn.send(encodeStream(FCGI_STDIN, 1, new Uint8Array(0)));
    const obs = await conn.readResponse(1, ctx.timeouts.replyMs);
    const more = await collectFor(conn, ctx.timeouts.quietMs);
    ctx.check.observe('{FCGI_GET_VALUES, 1} during request 1', describeGetValuesAnswer([...obs.records.filter((r) => r.type === FCGI_GET_VALUES_RESULT), ...more.records], false));
    ctx.check.observe('request 1', requestWords(obs, ctx.profile.probe ? body : undefined));
    if (obs.ending !== 'end-request') {
      ctx.check.violation('FCGI-X-wrong-id-class', 'request 1 served despite {FCGI_GET_VALUES, 1} inside it (the suite\'s position)', describeObservation(obs));
      conn.close();
      await expectFreshServed(ctx, 'FCGI-3.5-accept-after-close', 'after the connection that carried {FCGI_GET_VALUES, 1}');
    }
  },
});

function describeGetValuesAnswer(records: readonly DecodedRecord[], closed: boolean): string {
  const results = records.filter((r) => r.type === FCGI_GET_VALUES_RESULT);
  const parts = results.map((r) => `FCGI_GET_VALUES_RESULT on id ${r.requestId} ${preview(r.content, 40)}`);
  const unknown = records.filter((r) => r.type === FCGI_UNKNOWN_TYPE);
  if (unknown.length) parts.push(`FCGI_UNKNOWN_TYPE on id ${unknown.map((r) => r.requestId).join(', ')}`);
  const others = records.length - results.length - unknown.length;
  if (others > 0) parts.push(`${others} other record(s)`);
  if (closed) parts.push('closed the connection');
  return parts.length ? parts.join('; ') : 'ignored';
}

function requestWords(obs: ResponseObservation, body: Uint8Array | undefined): string {
  if (obs.ending !== 'end-request') return describeObservation(obs);
  const status = protocolStatusName(obs.end?.protocolStatus ?? -1);
  if (body === undefined) return status;
  const echoed = cgiOf(obs)?.body;
  return `${status}; echo ${echoed && Buffer.compare(echoed, body) === 0 ? 'as sent' : preview(echoed ?? new Uint8Array(0))}`;
}

const beginOnActiveId = defineScenario({
  id: 'request-ids.begin-on-active-id',
  title: 'records what a second FCGI_BEGIN_REQUEST for an active id does to the request',
  group: 'request-ids',
  requirements: ['FCGI-3.3-begin-on-active-id'],
  hostile: true,
  async run(ctx) {
    const conn = await ctx.connect();
    const echo = ctx.profile.probe ? probe.echoStdin() : [];
    const first = utf8('first-');
    const second = utf8('second');
    // Request 1 with part of its body; BEGIN_REQUEST 1 again with its own PARAMS; the rest of the body, ended.
    await conn.send(heldRequest(ctx, { requestId: 1, flags: FCGI_KEEP_CONN, params: [...bodyParams(12), ...echo], stdin: first }));
    await conn.send(heldRequest(ctx, { requestId: 1, flags: FCGI_KEEP_CONN, params: [...bodyParams(6), ...echo], omit: { stdin: true } }));
    await conn.send(encodeStream(FCGI_STDIN, 1, second));
    const obs = await conn.readResponse(1, ctx.timeouts.replyMs);
    const again = obs.ending === 'end-request' ? await conn.readResponse(1, ctx.timeouts.quietMs) : undefined;
    const ends = obs.records.filter((r) => r.type === FCGI_END_REQUEST).length + (again?.records.filter((r) => r.type === FCGI_END_REQUEST).length ?? 0);
    // §3.3 says when an id becomes active, not what a second FCGI_BEGIN_REQUEST for it means: recorded.
    ctx.check.observe('FCGI_BEGIN_REQUEST for the active id 1', describeSecondBegin(obs, ends, ctx.profile.probe));
    ctx.check.observe('FCGI_END_REQUEST records for id 1', ends);
    if (obs.ending !== 'closed') {
      const next = await sendAndRead(conn, { requestId: 2, flags: FCGI_KEEP_CONN });
      ctx.check.observe('a request on id 2 afterwards', next.obs.ending === 'end-request' ? endingWord(next.obs) : next.obs.ending);
    }
  },
});

function describeSecondBegin(obs: ResponseObservation, ends: number, probed: boolean): string {
  if (obs.ending === 'closed') return `closed the connection${obs.records.length ? ` after ${obs.records.length} record(s)` : ''}`;
  if (obs.ending === 'timeout') return 'request 1 never ended';
  const status = protocolStatusName(obs.end?.protocolStatus ?? -1);
  if (!probed) return `request 1 ended with ${status}${ends > 1 ? `, ${ends} FCGI_END_REQUEST records in all` : ''}`;
  const text = Buffer.from(cgiOf(obs)?.body ?? new Uint8Array(0)).toString('latin1');
  const reading =
    text === 'first-second' ? 'ignored (body from both parts)' : text === 'second' ? 'restarted the request' : text === 'first-' ? 'ended request 1 with its first part' : `body ${JSON.stringify(text.slice(0, 40))}`;
  return `${reading}; ${status}${ends > 1 ? `, ${ends} FCGI_END_REQUEST records` : ''}`;
}

export const misuseScenarios: readonly Scenario[] = [beginOnNullId, getValuesOnRequestId, beginOnActiveId];
