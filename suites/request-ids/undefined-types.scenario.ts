/**
 * Records of undefined types (12, 200) and a misdirected FCGI_END_REQUEST on the id of an active request:
 * FCGI_UNKNOWN_TYPE is defined for management records only, so what an application does with these is open.
 * Recorded: skipped, answered, or the connection closed; and whether the request still completes with its
 * body intact. The runner then checks that the application still serves. @see §4.2, §3.3
 */
import { FCGI_END_REQUEST, FCGI_STDIN, FCGI_UNKNOWN_TYPE, recordTypeName } from '../../spec/constants.ts';
import { encodeEndRequestBody } from '../../reference/codec/bodies.ts';
import { encodeStream } from '../../reference/codec/record.ts';
import { defineScenario, type Scenario } from '../define.ts';
import { bodyParams, describeOutcome, echoProblem, encodeRecords, outcomeOf, patternBytes, probe, sendAndRead } from '../kit.ts';
import { collectFor, describeQuiet, heldRequest } from '../kit-flow.ts';

const BODY = patternBytes(64, 0x0c20);
const HALF = BODY.length / 2;

const undefinedTypes = defineScenario({
  id: 'request-ids.undefined-types-on-active',
  title: 'records what the application does with records of types 12 and 200 and an FCGI_END_REQUEST on an active request id',
  group: 'request-ids',
  requirements: ['FCGI-X-unknown-app-type-app'],
  hostile: true,
  async run(ctx) {
    const conn = await ctx.connect();
    const params = [...bodyParams(BODY.length), ...(ctx.profile.probe ? probe.echoStdin() : [])];
    await conn.send(heldRequest(ctx, { requestId: 1, params, stdin: BODY.subarray(0, HALF) }));
    // §4.2 answers unknown *management* types with FCGI_UNKNOWN_TYPE; for application records nothing is said.
    // Content is given so that an application which took them for stream data would show it in the echo.
    await conn.send(
      encodeRecords([
        { type: 12, requestId: 1, content: patternBytes(24, 12) },
        { type: 200, requestId: 1 },
        { type: FCGI_END_REQUEST, requestId: 1, content: encodeEndRequestBody({ appStatus: 0, protocolStatus: 0 }) },
      ]),
    );
    const reaction = await collectFor(conn, ctx.timeouts.quietMs);
    const answers = reaction.records.filter((r) => r.type === FCGI_UNKNOWN_TYPE);
    ctx.check.observe(
      'reaction',
      reaction.closed ? `closed the connection (${reaction.closed.how})` : answers.length > 0 ? `answered ${answers.length} FCGI_UNKNOWN_TYPE` : reaction.records.length > 0 ? describeQuiet(reaction) : 'skipped them (nothing sent back)',
    );
    if (reaction.closed) return;
    const early = reaction.records.filter((r) => r.requestId === 1);
    if (early.length > 0) {
      ctx.check.observe('the request', `${early.length} record(s) for it before its STDIN ended, first ${recordTypeName(early[0]!.type)}`);
      return;
    }
    const { obs } = await sendAndRead(conn, encodeStream(FCGI_STDIN, 1, BODY.subarray(HALF)));
    const outcome = outcomeOf(obs);
    const intact = ctx.profile.probe && outcome === 'complete' ? (echoProblem(obs, BODY) === undefined ? ', body intact' : `, body differs: ${echoProblem(obs, BODY)}`) : '';
    ctx.check.observe('the request', `${describeOutcome(outcome, obs)}${intact}`);
  },
});

export const undefinedTypeScenarios: readonly Scenario[] = [undefinedTypes];
