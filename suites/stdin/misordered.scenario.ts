/**
 * STDIN before the PARAMS stream has ended: the web server must not send it (§6.1 "Inputs are not interleaved
 * with each other"), so it is malformed input. The application writes no output before PARAMS ends (§6.2), and
 * survives: it serves, refuses, closes, or waits; it does not crash or send partial output.
 */
import { FCGI_END_REQUEST, FCGI_PARAMS, FCGI_STDIN, recordTypeName } from '../../spec/constants.ts';
import { encodeStream } from '../../reference/codec/record.ts';
import { defineScenario, type Scenario } from '../define.ts';
import { bodyParams, describeOutcome, encodePlan, encodeRecords, expectCleanOutcome, patternBytes } from '../kit.ts';

const beforeParamsEnd = defineScenario({
  id: 'stdin.before-params-end',
  title: 'writes nothing, and survives, when STDIN arrives before the PARAMS stream has ended',
  group: 'stdin',
  requirements: ['FCGI-6.1-misordered-input-survived', 'FCGI-6.2-params-before-output', 'FCGI-5.5-end-request-once'],
  hostile: true,
  async run(ctx) {
    const body = patternBytes(64, 0x0d00);
    const conn = await ctx.connect();
    // BEGIN_REQUEST and PARAMS without its empty record, then the whole STDIN stream.
    await conn.send(encodePlan(ctx, { requestId: 1, params: bodyParams(body.length), omit: { paramsEnd: true, stdin: true } }));
    await conn.send(encodeStream(FCGI_STDIN, 1, body));
    const early = await conn.readResponse(1, ctx.timeouts.quietMs * 2);
    // §6.2: "The application must wait to finish reading FCGI_PARAMS before it begins writing FCGI_STDOUT and
    // FCGI_STDERR". An application may refuse the malformed request at once (END_REQUEST or a close).
    const output = early.records.filter((r) => r.content.length > 0 && r.type !== FCGI_END_REQUEST);
    ctx.check.that(
      output.length === 0,
      'FCGI-6.2-params-before-output',
      'no FCGI_STDOUT or FCGI_STDERR data while the PARAMS stream is open',
      `${output.length} output record(s), first ${output[0] ? recordTypeName(output[0].type) : ''}`,
    );
    if (early.ending !== 'timeout') {
      const outcome = expectCleanOutcome(ctx.check, early, 'FCGI-6.1-misordered-input-survived', 'a request with STDIN before the end of PARAMS');
      ctx.check.observe('STDIN before PARAMS ended', `${describeOutcome(outcome, early)} at once`);
      return;
    }
    // Now end PARAMS. Serving (with or without the early body), refusing, closing, or waiting for a STDIN stream it
    // never got (it ignored the early one) are all survivable; partial output is not.
    await conn.send(encodeRecords([{ type: FCGI_PARAMS, requestId: 1 }]));
    const late = await conn.readResponse(1, ctx.timeouts.replyMs);
    const outcome = expectCleanOutcome(ctx.check, late, 'FCGI-5.5-end-request-once', 'the same request once PARAMS ended', [
      'complete',
      'rejected',
      'closed-silently',
      'timeout-silent',
    ]);
    ctx.check.observe('STDIN before PARAMS ended', `${describeOutcome(outcome, late)} after the empty PARAMS record`);
  },
});

export const misorderedScenarios: readonly Scenario[] = [beforeParamsEnd];
