/**
 * FCGI_MAX_CONNS and FCGI_MAX_REQS against behaviour: up to the claimed number of connections (or requests),
 * each holding a request that takes a while, the application serves them all at once; one past the limit may
 * be served, queued, refused with FCGI_OVERLOADED or closed (all recorded). Serving more than claimed is no
 * fault; serving fewer at once contradicts the claim. @see §4.1, §5.5 FCGI_OVERLOADED
 */
import { FCGI_KEEP_CONN, FCGI_MAX_CONNS, FCGI_MAX_REQS, FCGI_OVERLOADED, FCGI_REQUEST_COMPLETE } from '../../spec/constants.ts';
import { defineScenario, type Scenario, type ScenarioConnection, type ScenarioContext } from '../define.ts';
import { describeOutcome, encodePlan, outcomeOf, probe } from '../kit.ts';
import { type Claim, claimedLimit, endingWord, observeCounts, readTimed, settle, type Timed } from '../kit-flow.ts';
import { HarnessError } from '../../harness/errors.ts';

/** Most connections or requests a limits scenario opens at once. */
export const LIMIT_CAP = 64;
const SLEEP_MS = 1000;

type Layout = 'connections' | 'one-connection';

/** What one round of concurrent sleeping requests showed. */
interface Round {
  /** Requests that ended FCGI_REQUEST_COMPLETE within the first wave (about one sleep after they were sent). */
  readonly inWave: number;
  /** Requests answered with any FCGI_END_REQUEST within the first wave: their connection was taken at once. */
  readonly answeredInWave: number;
  readonly results: readonly Timed[];
  /** The request past the limit, when one was sent. */
  readonly extra?: Timed;
  readonly refusedConnects: number;
  readonly waveEndMs: number;
}

async function tryConnect(ctx: ScenarioContext): Promise<ScenarioConnection | undefined> {
  try {
    return await ctx.connect();
  } catch (err) {
    if (err instanceof HarnessError && err.code === 'E_CONNECT') return undefined;
    throw err;
  }
}

/**
 * Sends `n` requests whose handler sleeps, on `n` connections or all on one, then (with `extra`) one quick
 * request more the same way, and reads them all with their end times. A request counts as concurrent when it
 * completes within 1.75 sleeps of the start: one run after another would take two.
 */
async function round(ctx: ScenarioContext, n: number, layout: Layout, extra: boolean): Promise<Round> {
  const sleepMs = ctx.timeouts.scale(SLEEP_MS);
  const waveEndMs = Math.round(sleepMs * 1.75);
  const wait = sleepMs * 2 + ctx.timeouts.replyMs;
  const t0 = performance.now();
  let refusedConnects = 0;
  const slots: { conn: ScenarioConnection; id: number }[] = [];
  const shared = layout === 'one-connection' ? await ctx.connect() : undefined;
  const opened: ScenarioConnection[] = shared ? [shared] : [];
  // On one connection, FCGI_KEEP_CONN keeps the first response from closing it under the others.
  const flags = shared ? FCGI_KEEP_CONN : 0;
  for (let i = 0; i < n; i++) {
    const conn = shared ?? (await tryConnect(ctx));
    if (!conn) {
      refusedConnects++;
      continue;
    }
    if (!shared) opened.push(conn);
    const id = shared ? i + 1 : 1;
    await conn.send(encodePlan(ctx, { requestId: id, flags, params: probe.sleep(sleepMs) }));
    slots.push({ conn, id });
  }
  const reads = slots.map((s) => readTimed(s.conn, s.id, wait, t0));
  let extraRead: Promise<Timed> | undefined;
  if (extra) {
    await settle(ctx);
    const conn = shared ?? (await tryConnect(ctx));
    if (conn && !shared) opened.push(conn);
    if (conn) {
      const id = shared ? n + 1 : 1;
      await conn.send(encodePlan(ctx, { requestId: id, flags }));
      extraRead = readTimed(conn, id, wait, t0);
    } else refusedConnects++;
  }
  const results = await Promise.all(reads);
  const extraResult = extraRead ? await extraRead : undefined;
  // Leave the target as found: every connection closed, and a moment for it to notice before the next
  // scenario (or the liveness check) counts its free slots.
  for (const c of opened) c.close();
  await ctx.sleep(ctx.timeouts.quietMs);
  const early = results.filter((r) => r.obs.ending === 'end-request' && r.atMs <= waveEndMs);
  const inWave = early.filter((r) => r.obs.end?.protocolStatus === FCGI_REQUEST_COMPLETE).length;
  return { inWave, answeredInWave: early.length, results, ...(extraResult ? { extra: extraResult } : {}), refusedConnects, waveEndMs };
}

/** The request past the limit (a quick one, sent while the others sleep `sleepMs`), in words. */
function extraWords(r: Timed, sleepMs: number): string {
  const outcome = outcomeOf(r.obs);
  if (outcome === 'complete') return r.atMs < sleepMs * 0.75 ? `served at once (${r.atMs} ms)` : `served once others ended: queued (${r.atMs} ms)`;
  if (outcome === 'rejected' && r.obs.end?.protocolStatus === FCGI_OVERLOADED) return 'refused with FCGI_OVERLOADED';
  return describeOutcome(outcome, r.obs);
}

/**
 * Runs a round for a claimed limit and judges it. For FCGI_MAX_CONNS a connection counts once its request is
 * answered within the wave (FCGI_OVERLOADED included: a request limit may be lower); for FCGI_MAX_REQS a
 * request counts once served within the wave. Fewer than `n` contradicts the claim.
 */
async function checkLimit(ctx: ScenarioContext, claim: Claim<number>, name: typeof FCGI_MAX_CONNS | typeof FCGI_MAX_REQS, n: number, layout: Layout, beyond: boolean): Promise<void> {
  ctx.check.observe(name, `${claim.value} (${claim.source})`);
  ctx.check.observe('tested at once', `${n}${beyond ? ' + 1 past the limit' : ` (the claim is above the cap of ${LIMIT_CAP}, or above another limit)`}`);
  const r = await round(ctx, n, layout, beyond);
  const sleepMs = ctx.timeouts.scale(SLEEP_MS);
  const quick = r.results.filter((t) => t.obs.ending === 'end-request' && t.obs.end?.protocolStatus === FCGI_REQUEST_COMPLETE && t.atMs < sleepMs / 2);
  // Served at once proves nothing if the handlers did not take their time.
  if (quick.length > 0) return ctx.skip(`${quick.length} request(s) were served within ${Math.round(sleepMs / 2)} ms: the handler did not sleep ${sleepMs} ms (the probe's sleep action?)`);
  observeCounts(ctx.check, 'outcomes', r.results.map((t) => endingWord(t.obs)));
  ctx.check.observe('served at once', `${r.inWave} of ${n}`);
  if (r.refusedConnects) ctx.check.observe('connections refused', r.refusedConnects);
  if (r.extra) ctx.check.observe('the request past the limit', extraWords(r.extra, sleepMs));
  const connections = name === FCGI_MAX_CONNS;
  const got = connections ? r.answeredInWave : r.inWave;
  const unit = connections ? 'connections answered' : 'requests served';
  // §4.1: FCGI_MAX_CONNS: "The maximum number of concurrent transport connections this application will
  // accept"; FCGI_MAX_REQS: "The maximum number of concurrent requests this application will accept". Up to
  // the claim, connections are taken and requests run at once; past it anything goes.
  const claimText = `${name} ${claim.value} (${claim.source === 'FCGI_GET_VALUES' ? 'answered by FCGI_GET_VALUES' : 'from the profile'})`;
  if (got >= n) return;
  const actual = `${got} of ${n} ${unit} within ${r.waveEndMs} ms (each request sleeps ${sleepMs} ms)`;
  if (claim.source === 'FCGI_GET_VALUES') ctx.check.violation('FCGI-4.1-limits-honoured', `${n} ${unit} at once, as ${claimText} says`, actual);
  else ctx.check.observe('profile claim contradicted', `${claimText}, yet ${actual}`);
}

const maxConns = defineScenario({
  id: 'limits.max-conns',
  title: `serves FCGI_MAX_CONNS connections at once (up to ${LIMIT_CAP}), and records what one more gets`,
  group: 'limits',
  requirements: ['FCGI-4.1-limits-honoured', 'FCGI-4.1-limit-values', 'FCGI-5.5-overloaded'],
  needs: { probe: true },
  // Many connections at once: run alone, with a liveness check after.
  hostile: true,
  timeoutMs: 25_000,
  async run(ctx) {
    const claim = await claimedLimit(ctx, FCGI_MAX_CONNS);
    if (!claim) return ctx.skip('the target reports no FCGI_MAX_CONNS (FCGI_GET_VALUES) and the profile gives none');
    const n = Math.min(claim.value, LIMIT_CAP);
    await checkLimit(ctx, claim, FCGI_MAX_CONNS, n, 'connections', claim.value <= LIMIT_CAP);
  },
});

const maxReqsConnections = defineScenario({
  id: 'limits.max-reqs.connections',
  title: `serves FCGI_MAX_REQS requests at once, one per connection (up to ${LIMIT_CAP}), and records what one more gets`,
  group: 'limits',
  requirements: ['FCGI-4.1-limits-honoured', 'FCGI-4.1-limit-values', 'FCGI-5.5-overloaded'],
  needs: { probe: true },
  hostile: true,
  timeoutMs: 25_000,
  async run(ctx) {
    const claim = await claimedLimit(ctx, FCGI_MAX_REQS);
    if (!claim) return ctx.skip('the target reports no FCGI_MAX_REQS (FCGI_GET_VALUES) and the profile gives none');
    const conns = await claimedLimit(ctx, FCGI_MAX_CONNS);
    // One request per connection cannot go past FCGI_MAX_CONNS: the smaller limit decides how far to go.
    const bound = Math.min(claim.value, conns?.value ?? Infinity);
    const n = Math.min(bound, LIMIT_CAP);
    await checkLimit(ctx, claim, FCGI_MAX_REQS, n, 'connections', claim.value <= LIMIT_CAP && claim.value <= (conns?.value ?? Infinity));
  },
});

const maxReqsMultiplexed = defineScenario({
  id: 'limits.max-reqs.multiplexed',
  title: `serves FCGI_MAX_REQS requests at once on one connection (up to ${LIMIT_CAP}), and records what one more gets`,
  group: 'limits',
  requirements: ['FCGI-4.1-limits-honoured', 'FCGI-4.1-limit-values', 'FCGI-5.5-overloaded'],
  needs: { probe: true, multiplex: true },
  hostile: true,
  timeoutMs: 25_000,
  async run(ctx) {
    const claim = await claimedLimit(ctx, FCGI_MAX_REQS);
    if (!claim) return ctx.skip('the target reports no FCGI_MAX_REQS (FCGI_GET_VALUES) and the profile gives none');
    const n = Math.min(claim.value, LIMIT_CAP);
    await checkLimit(ctx, claim, FCGI_MAX_REQS, n, 'one-connection', claim.value <= LIMIT_CAP);
  },
});

export const claimScenarios: readonly Scenario[] = [maxConns, maxReqsConnections, maxReqsMultiplexed];
