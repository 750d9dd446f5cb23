/**
 * FCGI_KEEP_CONN set: the application leaves the connection open after each request, and the web server runs
 * the next request on it, reusing request ids. @see §5.1 "flags & FCGI_KEEP_CONN", §3.3 "Managing Request IDs"
 */
import { FCGI_KEEP_CONN } from '../../spec/constants.ts';
import { defineScenario, type RequestPlan, type ResponseObservation, type Scenario, type ScenarioConnection, type ScenarioContext } from '../define.ts';
import {
  cgiOf,
  describeObservation,
  expectEchoOrServed,
  formatSize,
  patternBytes,
  probe,
  sendAndRead,
  utf8,
  variantId,
  variantNeeds,
  variantTitle,
  variants,
  type Variant,
} from '../kit.ts';
import { echoPlan, expectBaseline, expectOpen } from '../kit-flow.ts';
import { concatBytes } from '../../reference/codec/record.ts';

/** A body that names its request, so a stale or misrouted response shows. */
export function numberedBody(index: number, count: number, extra = 0): Uint8Array {
  return concatBytes([utf8(`request ${index + 1} of ${count}\n`), patternBytes(extra, 0x4b00 + index)]);
}

/**
 * Runs `plans` one after another on `conn`, each after the previous one's FCGI_END_REQUEST. The first is a
 * baseline (not served → skip or a FCGI-5.5 finding); each later one must be served on the same connection.
 * Stops at the first failure. Returns how many were served.
 */
export async function runKept(
  ctx: ScenarioContext,
  conn: ScenarioConnection,
  variant: Variant,
  plans: readonly { readonly plan: RequestPlan; readonly body: Uint8Array; readonly label: string }[],
): Promise<number> {
  for (const [i, { plan, body, label }] of plans.entries()) {
    const { obs } = await sendAndRead(conn, plan);
    if (i === 0) {
      // The first request is the baseline: its body is the input groups' business; here only whether the
      // connection carries the next requests is judged.
      if (!expectBaseline(ctx, obs, `${label} (FCGI_KEEP_CONN)`)) return 0;
      continue;
    }
    // §5.1: "If not zero, the application does not close the connection after responding to this request; the
    // Web server retains responsibility for the connection."
    if (!expectEchoOrServed(ctx.check, variant, obs, body, 'FCGI-5.1-keep-conn-set-stays-open', `${label}, on the connection kept open (${keptNote(obs, i)})`)) {
      return i;
    }
  }
  return plans.length;
}

function keptNote(obs: ResponseObservation, served: number): string {
  return obs.ending === 'closed' && obs.records.length === 0 ? `the connection was closed after request ${served}` : `${served} served before it`;
}

function sequential(count: number, variant: Variant): Scenario {
  return defineScenario({
    id: variantId(`keep-conn.sequential-${count}`, variant),
    title: variantTitle(`serves ${count} requests one after another on one FCGI_KEEP_CONN connection, all with request id 1`, variant),
    group: 'keep-conn',
    requirements: ['FCGI-5.1-keep-conn-set-stays-open', 'FCGI-3.3-request-id-reuse'],
    needs: variantNeeds(variant, { keepConn: true }),
    timeoutMs: 10_000 + count * 200,
    async run(ctx) {
      const conn = await ctx.connect();
      const plans = Array.from({ length: count }, (_, i) => {
        const body = numberedBody(i, count, (i * 97) % 700);
        return { plan: echoPlan(variant, 1, body, FCGI_KEEP_CONN), body, label: `request ${i + 1} of ${count} (id 1)` };
      });
      const served = await runKept(ctx, conn, variant, plans);
      ctx.check.observe('requests served on one connection', served);
      if (served < count) return;
      // §3.3: "A request ID R becomes active when the application receives a record {FCGI_BEGIN_REQUEST, R, ...}
      // and becomes inactive when the application sends a record {FCGI_END_REQUEST, R, ...}": id 1 was free
      // again after each response, and still the connection is the web server's to close.
      await expectOpen(ctx, conn, 'FCGI-5.1-keep-conn-set-stays-open', `after the last of ${count} requests`);
    },
  });
}

function alternating(variant: Variant): Scenario {
  // Ids in turn, one request at a time: each id is begun again only after its FCGI_END_REQUEST.
  const ids = [1, 2, 1, 2, 3, 1, 300, 2, 65535, 1];
  return defineScenario({
    id: variantId('keep-conn.alternating-ids', variant),
    title: variantTitle(`serves requests with ids ${ids.join(', ')} one after another on one FCGI_KEEP_CONN connection`, variant),
    group: 'keep-conn',
    requirements: ['FCGI-5.1-keep-conn-set-stays-open', 'FCGI-3.3-request-id-reuse'],
    needs: variantNeeds(variant, { keepConn: true }),
    async run(ctx) {
      const conn = await ctx.connect();
      const plans = ids.map((id, i) => {
        const body = numberedBody(i, ids.length, 16 * i);
        return { plan: echoPlan(variant, id, body, FCGI_KEEP_CONN), body, label: `request ${i + 1} (id ${id})` };
      });
      const served = await runKept(ctx, conn, variant, plans);
      if (served === ids.length) await expectOpen(ctx, conn, 'FCGI-5.1-keep-conn-set-stays-open', 'after the last request');
    },
  });
}

const BULK = 4 * 1024 * 1024;

/** A long response, then another request: the framing of the first must leave the connection in step. */
const afterLargeResponse = defineScenario({
  id: 'keep-conn.after-large-response',
  title: `serves a request on a kept connection after a ${formatSize(BULK)} response on it`,
  group: 'keep-conn',
  requirements: ['FCGI-5.1-keep-conn-set-stays-open'],
  needs: { keepConn: true, probe: true },
  timeoutMs: 20_000,
  async run(ctx) {
    const conn = await ctx.connect();
    const big = await sendAndRead(conn, { requestId: 1, flags: FCGI_KEEP_CONN, params: probe.bulk(BULK) }, { timeoutMs: ctx.timeouts.scale(10_000) });
    if (!expectBaseline(ctx, big.obs, `a request for a ${formatSize(BULK)} body`)) return;
    const length = cgiOf(big.obs)?.body.length;
    ctx.check.observe('bulk body received', length === undefined ? `no CGI response: ${describeObservation(big.obs)}` : formatSize(length));
    const body = numberedBody(1, 2, 1000);
    const next = await sendAndRead(conn, echoPlan('probe', 1, body, FCGI_KEEP_CONN));
    // §5.1: "the application does not close the connection after responding to this request".
    expectEchoOrServed(ctx.check, 'probe', next.obs, body, 'FCGI-5.1-keep-conn-set-stays-open', `the request after the ${formatSize(BULK)} response`);
  },
});

export const sequentialScenarios: readonly Scenario[] = [
  ...variants.map((v) => sequential(5, v)),
  ...variants.map((v) => sequential(50, v)),
  ...variants.map(alternating),
  afterLargeResponse,
];
