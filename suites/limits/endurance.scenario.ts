/**
 * Many requests over time: hundreds of connections one after another, a thousand requests on one kept
 * connection. Nothing leaks and nothing wears out: every one is served. @see §3.5, §5.1
 */
import { FCGI_KEEP_CONN } from '../../spec/constants.ts';
import { defineScenario, type Scenario } from '../define.ts';
import { exchange, sendAndRead, servedProblem, summarizeFailures } from '../kit.ts';
import { expectBaseline } from '../kit-flow.ts';

const CONNECTIONS = 500;
/** Connections open at a time: a few lanes, each opening its next connection when the last is served. */
const LANES = 4;

const sequentialConnections = defineScenario({
  id: 'limits.sequential-connections',
  title: `serves ${CONNECTIONS} connections, ${LANES} at a time, one request each`,
  group: 'limits',
  requirements: ['FCGI-3.5-accept-after-close'],
  timeoutMs: 60_000,
  async run(ctx) {
    const failed: number[] = [];
    let first: string | undefined;
    let next = 0;
    let inARow = 0;
    // §3.2 lets an application take connections one at a time: lanes then simply wait in its listen backlog.
    const lane = async (): Promise<void> => {
      while (next < CONNECTIONS && !ctx.signal.aborted) {
        const i = next++;
        const { conn, obs } = await exchange(ctx, { requestId: 1 });
        conn.close();
        const problem = servedProblem(obs);
        if (problem === undefined) {
          inARow = 0;
          continue;
        }
        failed.push(i + 1);
        first ??= `connection ${i + 1}: ${problem}`;
        // A target that stopped serving need not be asked 500 times.
        if (++inARow >= 3) next = CONNECTIONS;
      }
    };
    await Promise.all(Array.from({ length: LANES }, lane));
    failed.sort((a, b) => a - b);
    // §3.5: "When an application closes a connection or finds that a connection has closed, the application
    // initiates a new connection": read as accepting the next one, every time (no descriptor or memory leak
    // that runs out after a few hundred).
    ctx.check.that(failed.length === 0, 'FCGI-3.5-accept-after-close', `each of ${CONNECTIONS} connections served`, `${summarizeFailures(failed.map((n) => `#${n}`), CONNECTIONS)}; ${first ?? ''}`);
  },
});

const REQUESTS = 1000;

const longKeptConnection = defineScenario({
  id: 'limits.long-kept-connection',
  title: `serves ${REQUESTS} requests one after another on one FCGI_KEEP_CONN connection`,
  group: 'limits',
  requirements: ['FCGI-5.1-keep-conn-set-stays-open'],
  needs: { keepConn: true },
  timeoutMs: 60_000,
  async run(ctx) {
    const conn = await ctx.connect();
    for (let i = 0; i < REQUESTS && !ctx.signal.aborted; i++) {
      const { obs } = await sendAndRead(conn, { requestId: 1 + (i % 3), flags: FCGI_KEEP_CONN });
      if (i === 0) {
        if (!expectBaseline(ctx, obs, 'request 1 (FCGI_KEEP_CONN)')) return;
        continue;
      }
      const problem = servedProblem(obs);
      if (problem === undefined) continue;
      ctx.check.observe('requests served on the connection', i);
      // §5.1: "If not zero, the application does not close the connection after responding to this request".
      // An application that recycles itself after N requests (PHP_FCGI_MAX_REQUESTS) still owes the web server
      // the connection it was told to keep.
      ctx.check.violation('FCGI-5.1-keep-conn-set-stays-open', `all ${REQUESTS} requests served on the kept connection`, `request ${i + 1}: ${problem}`);
      return;
    }
    ctx.check.observe('requests served on the connection', REQUESTS);
  },
});

export const enduranceScenarios: readonly Scenario[] = [sequentialConnections, longKeptConnection];
