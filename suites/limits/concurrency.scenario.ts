/**
 * Several transport connections at once: an application may serve them concurrently or one after another
 * (§3.2). Requests held open on some connections (their STDIN not ended) show which: a request on one more
 * connection is answered meanwhile only by an application that serves connections concurrently.
 * @see §3.2
 */
import { FCGI_STDIN } from '../../spec/constants.ts';
import { encodeStream } from '../../reference/codec/record.ts';
import { defineScenario, type Scenario, type ScenarioConnection } from '../define.ts';
import { bodyParams, describeObservation, patternBytes, sendAndRead, servedProblem } from '../kit.ts';
import { heldRequest, readMore } from '../kit-flow.ts';

/** Connections opened at once (fewer when the target claims a lower FCGI_MAX_CONNS). */
const CONNECTIONS = 4;
/** A body announced by CONTENT_LENGTH and sent in two halves: an application waits for the second. */
const BODY = patternBytes(16, 0x3c2c);
const HALF = BODY.length / 2;

const concurrentConnections = defineScenario({
  id: 'limits.concurrent-connections',
  title: `records whether ${CONNECTIONS} connections are served at once or one after another; every request is served in the end`,
  group: 'limits',
  requirements: ['FCGI-3.2-concurrent-connections'],
  async run(ctx) {
    const n = Math.min(CONNECTIONS, ctx.profile.maxConns ?? CONNECTIONS);
    if (n < 2) ctx.skip(`the target claims FCGI_MAX_CONNS=${n}: one connection at a time by its own account`);
    const held: ScenarioConnection[] = [];
    for (let i = 0; i < n - 1; i++) {
      const conn = await ctx.connect();
      await conn.send(heldRequest(ctx, { requestId: 1, params: bodyParams(BODY.length), stdin: BODY.subarray(0, HALF) }));
      held.push(conn);
    }
    // §3.2: "An application may accept several concurrent transport connections, but it need not do so."
    const last = await ctx.connect();
    const { obs: meanwhile } = await sendAndRead(last, { requestId: 1 });
    // A held request answered already did not hold its connection: then nothing can be concluded.
    const leaked = held.filter((c) => c.unclaimed().length > 0 || c.raw.closed).length;
    const concurrent = meanwhile.ending === 'end-request';
    if (leaked > 0) ctx.check.observe('held requests answered before their body was complete', leaked);
    ctx.check.observe(
      'concurrent connections',
      leaked > 0 ? 'not determined' : concurrent ? `at least ${n}: a request on connection ${n} was answered while ${n - 1} others held theirs open` : `one after another: no answer on connection ${n} within ${ctx.timeouts.replyMs} ms while ${n - 1} others held requests open`,
    );
    const results = await Promise.all(
      held.map(async (conn) => {
        const { obs } = await sendAndRead(conn, encodeStream(FCGI_STDIN, 1, BODY.subarray(HALF)), { timeoutMs: ctx.timeouts.replyMs * n });
        return obs;
      }),
    );
    const lastObs = concurrent ? meanwhile : await readMore(last, meanwhile, ctx.timeouts.replyMs * n);
    const problems = [...results, lastObs].flatMap((obs, i) => {
      const p = servedProblem(obs);
      return p === undefined ? [] : [`connection ${i + 1}: ${p}`];
    });
    // "it need not do so": one after another is fine, provided each request is served in the end.
    ctx.check.that(problems.length === 0, 'FCGI-3.2-concurrent-connections', `all ${n} requests served, at once or in turn`, problems.join('; '));
    if (!concurrent) ctx.check.observe(`connection ${n} served after the others`, describeObservation(lastObs));
  },
});

export const concurrencyScenarios: readonly Scenario[] = [concurrentConnections];
