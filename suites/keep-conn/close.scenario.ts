/**
 * Who closes the connection: with FCGI_KEEP_CONN clear the application closes it after responding; with it
 * set the application leaves it open, whatever became of the request, for as long as the web server likes.
 * @see §5.1 "flags & FCGI_KEEP_CONN", §3.5
 */
import { FCGI_KEEP_CONN, protocolStatusName } from '../../spec/constants.ts';
import { defineScenario, type ResponseObservation, type Scenario } from '../define.ts';
import { describeObservation, encodePlan, exchange, expectServed, patternBytes, sendAndRead } from '../kit.ts';
import { abortRecord, echoPlan, expectBaseline, expectClosed, expectOpen } from '../kit-flow.ts';

const clearCloses = defineScenario({
  id: 'keep-conn.clear-closes',
  title: 'closes the connection after responding when FCGI_KEEP_CONN is clear',
  group: 'keep-conn',
  requirements: ['FCGI-5.1-keep-conn-clear-closes'],
  async run(ctx) {
    const cases = [
      { label: 'a request without a body', plan: { requestId: 1 } },
      { label: 'a request with a 1000-byte body', plan: echoPlan('framing', 1, patternBytes(1000, 0x4c00)) },
    ];
    for (const { label, plan } of cases) {
      const { conn, obs } = await exchange(ctx, plan);
      if (expectBaseline(ctx, obs, label)) {
        // §5.1: "flags & FCGI_KEEP_CONN: If zero, the application closes the connection after responding to
        // this request."
        await expectClosed(ctx, conn, 'FCGI-5.1-keep-conn-clear-closes', `after ${label} with flags 0`, `close after FCGI_END_REQUEST (${label})`);
      }
      conn.close();
    }
  },
});

const clearOnLast = defineScenario({
  id: 'keep-conn.clear-on-last',
  title: 'keeps the connection through three FCGI_KEEP_CONN requests and closes it after a fourth without the flag',
  group: 'keep-conn',
  requirements: ['FCGI-5.1-keep-conn-set-stays-open', 'FCGI-5.1-keep-conn-clear-closes'],
  needs: { keepConn: true },
  async run(ctx) {
    const conn = await ctx.connect();
    for (let i = 1; i <= 4; i++) {
      const last = i === 4;
      const { obs } = await sendAndRead(conn, echoPlan('framing', 1, patternBytes(64 * i, 0x4d00 + i), last ? 0 : FCGI_KEEP_CONN));
      if (i === 1) {
        if (!expectBaseline(ctx, obs, 'request 1 (FCGI_KEEP_CONN)')) return;
        continue;
      }
      // §5.1: "If not zero, the application does not close the connection after responding to this request".
      if (!expectServed(ctx.check, obs, 'FCGI-5.1-keep-conn-set-stays-open', `request ${i}${last ? ' (flags 0)' : ''} on the kept connection`)) return;
    }
    // §5.1: "If zero, the application closes the connection after responding to this request." The flag of the
    // last request decides, not that of the first.
    await expectClosed(ctx, conn, 'FCGI-5.1-keep-conn-clear-closes', 'after the fourth request, sent with flags 0', 'close after the last request');
  },
});

const idleThenRequest = defineScenario({
  id: 'keep-conn.idle-then-request',
  title: 'leaves a kept connection open while it is idle, and serves the next request on it',
  group: 'keep-conn',
  requirements: ['FCGI-5.1-keep-conn-set-stays-open'],
  needs: { keepConn: true },
  async run(ctx) {
    const conn = await ctx.connect();
    const first = await sendAndRead(conn, { requestId: 1, flags: FCGI_KEEP_CONN });
    if (!expectBaseline(ctx, first.obs, 'request 1 (FCGI_KEEP_CONN)')) return;
    // §5.1: "the Web server retains responsibility for the connection": an idle kept connection is the web
    // server's to close, not the application's (within a time far shorter than any sensible idle timeout).
    if (!(await expectOpen(ctx, conn, 'FCGI-5.1-keep-conn-set-stays-open', `idle for ${ctx.timeouts.closeMs} ms after request 1`, ctx.timeouts.closeMs))) return;
    const second = await sendAndRead(conn, { requestId: 1, flags: FCGI_KEEP_CONN });
    expectServed(ctx.check, second.obs, 'FCGI-5.1-keep-conn-set-stays-open', 'request 2, after the idle period');
  },
});

/** A step's outcome that leaves the kept connection usable, or why not. */
function keptProblem(obs: ResponseObservation): { readonly closed: boolean; readonly text: string } | undefined {
  if (obs.ending === 'end-request') return undefined;
  return { closed: obs.ending === 'closed', text: describeObservation(obs) };
}

const afterEveryOutcome = defineScenario({
  id: 'keep-conn.after-every-outcome',
  title: 'keeps the connection after a served, an aborted and a rejected (unknown role) request, and serves a fourth',
  group: 'keep-conn',
  requirements: ['FCGI-5.1-keep-conn-set-stays-open'],
  needs: { keepConn: true },
  async run(ctx) {
    const conn = await ctx.connect();
    const served = await sendAndRead(conn, { requestId: 1, flags: FCGI_KEEP_CONN });
    if (!expectBaseline(ctx, served.obs, 'the served request (FCGI_KEEP_CONN)')) return;

    // Aborted before its input ended: BEGIN_REQUEST, PARAMS, then FCGI_ABORT_REQUEST instead of STDIN.
    await conn.send(encodePlan(ctx, { requestId: 1, flags: FCGI_KEEP_CONN, omit: { stdin: true } }));
    await conn.sendRecord(abortRecord(1));
    const aborted = await conn.readResponse(1, ctx.timeouts.replyMs);
    ctx.check.observe('aborted request', aborted.ending === 'end-request' ? protocolStatusName(aborted.end?.protocolStatus ?? -1) : aborted.ending);
    const abortProblem = keptProblem(aborted);
    if (abortProblem) {
      // §5.1: "If not zero, the application does not close the connection after responding to this request".
      // An abort answered by a close is the abort group's finding too; here it costs the kept connection.
      if (abortProblem.closed) ctx.check.violation('FCGI-5.1-keep-conn-set-stays-open', 'the kept connection stays open after an aborted request', abortProblem.text);
      return; // no answer: the abort group judges that; id 1 may still be active, so stop here
    }

    // A role the application does not play (§5.5 FCGI_UNKNOWN_ROLE is the begin-request group's check).
    const rejected = (await sendAndRead(conn, { requestId: 1, role: 9, flags: FCGI_KEEP_CONN })).obs;
    ctx.check.observe('request of unknown role 9', rejected.ending === 'end-request' ? protocolStatusName(rejected.end?.protocolStatus ?? -1) : rejected.ending);
    const rejectProblem = keptProblem(rejected);
    if (rejectProblem) {
      if (rejectProblem.closed) {
        ctx.check.violation('FCGI-5.1-keep-conn-set-stays-open', 'the kept connection stays open after a request of unknown role', rejectProblem.text);
      }
      return;
    }

    const last = await sendAndRead(conn, { requestId: 1, flags: FCGI_KEEP_CONN });
    // §5.1: the connection is the web server's "whatever its outcome": a fourth request is served on it.
    expectServed(ctx.check, last.obs, 'FCGI-5.1-keep-conn-set-stays-open', 'a request after the served, aborted and rejected ones');
  },
});

export const closeScenarios: readonly Scenario[] = [clearCloses, clearOnLast, idleThenRequest, afterEveryOutcome];
