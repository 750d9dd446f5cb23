/**
 * An Authorizer request without a STDIN stream: §6.3 lists only FCGI_PARAMS as its input, so whether an
 * application answers before any STDIN record is open. Recorded, with the same request then completed by an
 * empty STDIN record. @see §6.3
 */
import { FCGI_AUTHORIZER, FCGI_STDIN } from '../../spec/constants.ts';
import { encodeStream } from '../../reference/codec/record.ts';
import { defineScenario, type Scenario } from '../define.ts';
import { describeObservation, describeOutcome, encodePlan, exchange, outcomeOf, probe, sendAndRead } from '../kit.ts';
import { readMore } from '../kit-flow.ts';

const authorizerWithoutStdin = defineScenario({
  id: 'stdin.authorizer-without-stdin',
  title: 'records whether an Authorizer request is answered with no STDIN stream, and once an empty STDIN record follows',
  group: 'stdin',
  requirements: ['FCGI-6.3-authorizer-without-stdin'],
  needs: { roles: ['authorizer'] },
  async run(ctx) {
    const params = ctx.profile.probe ? probe.authorize(true) : [];
    // How long the target takes for a complete Authorizer request sets how long "no answer" must last to mean
    // that it waits for STDIN.
    const baseline = await exchange(ctx, { requestId: 1, role: FCGI_AUTHORIZER, params });
    baseline.conn.close();
    ctx.check.observe('with an empty STDIN record', describeOutcome(outcomeOf(baseline.obs), baseline.obs));
    const waitMs = Math.min(ctx.timeouts.replyMs, Math.max(ctx.timeouts.quietMs, Math.round(baseline.obs.elapsedMs * 5)));
    const conn = await ctx.connect();
    // §6.3: "The Authorizer application receives HTTP request information from the Web server on the FCGI_PARAMS
    // stream, in the same format as a Responder." No STDIN is named.
    const { obs: early } = await sendAndRead(conn, encodePlan(ctx, { requestId: 1, role: FCGI_AUTHORIZER, params, omit: { stdin: true } }), { timeoutMs: waitMs });
    const answered = early.ending !== 'timeout';
    ctx.check.observe('without STDIN', answered ? describeOutcome(outcomeOf(early), early) : `waits (no answer within ${waitMs} ms)`);
    if (answered) return;
    await conn.send(encodeStream(FCGI_STDIN, 1, new Uint8Array(0)));
    const later = await readMore(conn, early, ctx.timeouts.replyMs);
    ctx.check.observe('once the empty STDIN record followed', describeObservation(later));
  },
});

export const authorizerScenarios: readonly Scenario[] = [authorizerWithoutStdin];
