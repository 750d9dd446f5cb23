/**
 * What the application sends for a request: record headers (version 1, reserved 0, 8-byte alignment
 * recommended), the STDOUT stream ended by its empty record, exactly one FCGI_END_REQUEST after the streams,
 * with a well-formed body, and nothing for the request after it. @see §3.3, §5.3, §5.5, §6.1, §6.2
 */
import { FCGI_KEEP_CONN, FCGI_REQUEST_COMPLETE, FCGI_STDOUT, protocolStatusName } from '../../spec/constants.ts';
import { defineScenario, type Scenario } from '../define.ts';
import {
  checkEndRequest,
  checkOutputStreams,
  checkRecordHeaders,
  describeObservation,
  describeUnclaimed,
  exchange,
  expectQuietAfterEnd,
  sendAndRead,
} from '../kit.ts';

const stdoutTerminated = defineScenario({
  id: 'output.stdout-terminated',
  title: 'ends FCGI_STDOUT with one empty record before FCGI_END_REQUEST, and sends nothing of it after',
  group: 'output',
  requirements: ['FCGI-6.1-stdout-sent', 'FCGI-3.3-stream-terminator', 'FCGI-3.3-nothing-after-terminator', 'FCGI-6.2-end-after-output', 'FCGI-3.3-no-records-after-end'],
  async run(ctx) {
    const { conn, obs } = await exchange(ctx, { requestId: 1 });
    // §3.3: a stream is "zero or more non-empty records (length != 0) of the stream type, followed by an empty
    // record (length == 0) of the stream type"; §6.1: STDOUT "is always transmitted, even if the stream is empty".
    const streams = checkOutputStreams(ctx.check, obs);
    if (obs.ending !== 'end-request') {
      ctx.check.violation('FCGI-6.1-stdout-sent', 'a served request: STDOUT, its empty record, then FCGI_END_REQUEST', describeObservation(obs));
      return;
    }
    // §3.3: after the empty record no more records of the stream: exactly one terminator.
    ctx.check.that(streams.stdoutTerminators <= 1, 'FCGI-3.3-nothing-after-terminator', 'one empty FCGI_STDOUT record', `${streams.stdoutTerminators} empty FCGI_STDOUT records`);
    const last = obs.records.filter((r) => r.type === FCGI_STDOUT).at(-1);
    ctx.check.that(
      last === undefined || last.content.length === 0,
      'FCGI-3.3-stream-terminator',
      'the last FCGI_STDOUT record before FCGI_END_REQUEST empty',
      `last FCGI_STDOUT record has ${last?.content.length ?? 0} bytes`,
    );
    // STDOUT records after FCGI_END_REQUEST (an END_REQUEST sent first) show only after it.
    await expectQuietAfterEnd(ctx, conn, 1);
  },
});

const endRequest = defineScenario({
  id: 'output.end-request',
  title: 'ends the request with exactly one well-formed FCGI_END_REQUEST {appStatus, FCGI_REQUEST_COMPLETE}, then nothing for it',
  group: 'output',
  requirements: [
    'FCGI-5.5-end-request-once',
    'FCGI-5.5-end-body',
    'FCGI-5.5-request-complete',
    'FCGI-5.5-end-reserved-zero',
    'FCGI-3.3-no-records-after-end',
  ],
  async run(ctx) {
    // With FCGI_KEEP_CONN the application does not close, so the quiet period after FCGI_END_REQUEST is waited in
    // full; without it, its close ends the wait.
    const keep = ctx.profile.keepConn;
    const conn = await ctx.connect();
    const { obs } = await sendAndRead(conn, { requestId: 1, flags: keep ? FCGI_KEEP_CONN : 0 });
    if (!checkEndRequest(ctx.check, obs)) {
      if (conn.unclaimed().length) conn.note(`no FCGI_END_REQUEST for request 1${describeUnclaimed(conn)}`);
      return;
    }
    // §5.5: "FCGI_REQUEST_COMPLETE: normal end of request."
    ctx.check.that(
      obs.end?.protocolStatus === FCGI_REQUEST_COMPLETE,
      'FCGI-5.5-request-complete',
      'protocolStatus FCGI_REQUEST_COMPLETE for a plain request',
      protocolStatusName(obs.end?.protocolStatus ?? -1),
    );
    ctx.check.observe('appStatus', obs.end?.appStatus ?? -1);
    // §3.3: the id "becomes inactive when the application sends a record {FCGI_END_REQUEST, R, ...}".
    await expectQuietAfterEnd(ctx, conn, 1);
  },
});

const recordHeaders = defineScenario({
  id: 'output.record-headers',
  title: 'sends records with version 1, reserved byte 0, only STDOUT/STDERR/END_REQUEST, aligned to 8 bytes',
  group: 'output',
  requirements: ['FCGI-3.3-version-1', 'FCGI-3.3-reserved-zero', 'FCGI-3.3-align-8', 'FCGI-A-record-direction', 'FCGI-6.1-outputs-sequential'],
  async run(ctx) {
    const { conn, obs } = await exchange(ctx, { requestId: 1 });
    // §3.3 FCGI_Header; "We recommend that records be placed on boundaries that are multiples of eight bytes."
    checkRecordHeaders(ctx.check, obs.records);
    if (obs.records.length === 0) {
      ctx.check.violation('FCGI-6.1-outputs-sequential', 'records for request 1', `${describeObservation(obs)}${describeUnclaimed(conn)}`);
    }
  },
});

export const framingScenarios: readonly Scenario[] = [stdoutTerminated, endRequest, recordHeaders];
