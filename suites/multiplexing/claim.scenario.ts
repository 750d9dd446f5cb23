/**
 * FCGI_MPXS_CONNS against behaviour: a second request begun while the first is still active on the same
 * connection is served alongside it (the application multiplexes), refused with FCGI_CANT_MPX_CONN, or served
 * after the first (it takes one request at a time). Each is allowed; the claim must match what happens, and
 * the first request must not suffer. @see §4.1 FCGI_MPXS_CONNS, §5.5 FCGI_CANT_MPX_CONN, §3.3
 */
import {
  FCGI_CANT_MPX_CONN,
  FCGI_KEEP_CONN,
  FCGI_MPXS_CONNS,
  FCGI_OVERLOADED,
  FCGI_REQUEST_COMPLETE,
  FCGI_STDIN,
  protocolStatusName,
} from '../../spec/constants.ts';
import { encodeStream } from '../../reference/codec/record.ts';
import { defineScenario, type ResponseObservation, type Scenario, type ScenarioContext } from '../define.ts';
import {
  describeObservation,
  encodePlan,
  formatSize,
  patternBytes,
  probe,
  variantId,
  variantNeeds,
  variantProblem,
  variantTitle,
  variants,
  type Variant,
} from '../kit.ts';
import { askValues, type Claim, echoPlan, endedBefore, heldRequest, readMore, readTimed, settle } from '../kit-flow.ts';

/** What became of the second request. */
type SecondOutcome =
  /** Served while the first was still active: the application multiplexes. */
  | 'concurrent'
  /** Served once the first had ended: one request at a time, deferred. */
  | 'deferred'
  /** FCGI_END_REQUEST {FCGI_CANT_MPX_CONN}. */
  | 'cant-mpx-conn'
  /** FCGI_END_REQUEST {FCGI_OVERLOADED}: allowed at any time (§5.5). */
  | 'overloaded'
  /** FCGI_END_REQUEST with another status. */
  | 'other-status'
  /** No answer at all, even after the first request ended. */
  | 'lost'
  /** The connection closed with the second request unanswered. */
  | 'closed';

const outcomeText: Readonly<Record<SecondOutcome, string>> = {
  concurrent: 'served while request 1 was still active (multiplexed)',
  deferred: 'served after request 1 ended (one request at a time)',
  'cant-mpx-conn': 'refused with FCGI_CANT_MPX_CONN',
  overloaded: 'refused with FCGI_OVERLOADED',
  'other-status': 'ended with another protocolStatus',
  lost: 'never answered',
  closed: 'the connection closed with it unanswered',
};

/** FCGI_MPXS_CONNS as the target answers it now, else as the profile says. */
async function multiplexClaim(ctx: ScenarioContext): Promise<Claim<boolean>> {
  const value = (await askValues(ctx, [FCGI_MPXS_CONNS]))[FCGI_MPXS_CONNS];
  ctx.check.observe('FCGI_MPXS_CONNS', value ?? 'not answered');
  if (value === '1' || value === '0') return { value: value === '1', source: 'FCGI_GET_VALUES' };
  // Not answered, or not "0"/"1" (the management group reports that): the profile's claim stands in, but it
  // is the user's, so a mismatch with it is only observed.
  return { value: ctx.profile.multiplex, source: 'profile' };
}

/**
 * Judges the second request's fate and request 1 against the claim. `first` must be served in every case;
 * `second` is served with the right output or refused without output.
 */
function judge(
  ctx: ScenarioContext,
  variant: Variant,
  claim: Claim<boolean>,
  outcome: SecondOutcome,
  first: ResponseObservation,
  firstBody: Uint8Array,
  second: ResponseObservation,
  secondBody: Uint8Array | undefined,
): void {
  const { check } = ctx;
  check.observe('second concurrent request', outcomeText[outcome]);
  const multiplexed = outcome === 'concurrent';
  // §5.5 FCGI_CANT_MPX_CONN: "rejecting a new request. This happens when a Web server sends concurrent requests
  // over one connection to an application that is designed to process one request at a time per connection."
  // Rejecting the new request leaves the one in progress alone.
  const firstProblem = variantProblem(variant, first, firstBody);
  check.that(
    firstProblem === undefined,
    multiplexed ? 'FCGI-B-multiplexed-app' : 'FCGI-5.5-cant-mpx-conn',
    `request 1 served as if request 2 had not come (${outcomeText[outcome]})`,
    firstProblem ?? '',
  );
  if (outcome === 'lost' || outcome === 'closed') {
    // A request is never dropped: §5.5 "The application sends a FCGI_END_REQUEST record to terminate a request,
    // either because the application has processed the request or because the application has rejected the request."
    if (outcome === 'closed' && !ctx.profile.keepConn) {
      check.observe('note', 'the target does not keep connections (profile), so a close after request 1 is not judged');
    } else {
      check.violation('FCGI-5.5-cant-mpx-conn', 'request 2 served alongside request 1, after it, or refused with FCGI_CANT_MPX_CONN', `${outcomeText[outcome]}: ${describeObservation(second)}`);
    }
    return;
  }
  if (outcome === 'concurrent' || outcome === 'deferred') {
    const problem = secondBody ? variantProblem(variant, second, secondBody) : undefined;
    check.that(problem === undefined, multiplexed ? 'FCGI-B-multiplexed-app' : 'FCGI-5.5-cant-mpx-conn', 'request 2 served with its own output', problem ?? '');
  } else {
    // A rejected request never ran: it has no output (§5.5: the rejection statuses reject "a new request").
    check.that(
      second.stdout.length === 0,
      outcome === 'overloaded' ? 'FCGI-5.5-overloaded' : 'FCGI-5.5-cant-mpx-conn',
      `request 2 ${outcomeText[outcome]} without FCGI_STDOUT`,
      `${formatSize(second.stdout.length)} of FCGI_STDOUT first`,
    );
  }
  if (outcome === 'overloaded' || outcome === 'other-status') return;
  // §4.1: FCGI_MPXS_CONNS: ""0" if this application does not multiplex connections (i.e. handle concurrent
  // requests over each connection), "1" otherwise."
  const claimed = claim.value ? '"1" (multiplexes)' : '"0" (does not multiplex)';
  if (claim.value === multiplexed) return;
  const actual = `FCGI_MPXS_CONNS ${claimed} (${claim.source}), yet request 2 was ${outcomeText[outcome]}`;
  if (claim.source === 'FCGI_GET_VALUES') check.violation('FCGI-4.1-mpxs-conns', `behaviour matching FCGI_MPXS_CONNS ${claimed}`, actual);
  else check.observe('profile claim contradicted', actual);
}

function classify(second: ResponseObservation, firstEndedFirst: boolean): SecondOutcome {
  if (second.ending === 'closed') return 'closed';
  if (second.ending === 'timeout') return 'lost';
  switch (second.end?.protocolStatus) {
    case FCGI_REQUEST_COMPLETE:
      return firstEndedFirst ? 'deferred' : 'concurrent';
    case FCGI_CANT_MPX_CONN:
      return 'cant-mpx-conn';
    case FCGI_OVERLOADED:
      return 'overloaded';
    default:
      return 'other-status';
  }
}

function duringInput(variant: Variant): Scenario {
  return defineScenario({
    id: variantId('multiplexing.second-request-during-input', variant),
    title: variantTitle('handles a second request begun while the first still waits for FCGI_STDIN, as FCGI_MPXS_CONNS says', variant),
    group: 'multiplexing',
    requirements: ['FCGI-4.1-mpxs-conns', 'FCGI-5.5-cant-mpx-conn'],
    needs: variantNeeds(variant),
    timeoutMs: 15_000,
    async run(ctx) {
      const claim = await multiplexClaim(ctx);
      const conn = await ctx.connect();
      const body1 = patternBytes(300, 0x5100);
      const body2 = patternBytes(200, 0x5200);
      const plan1 = echoPlan(variant, 1, body1, FCGI_KEEP_CONN);
      // Request 1: BEGIN_REQUEST, PARAMS and its body, but not the empty STDIN record: it stays active.
      await conn.send(heldRequest(ctx, plan1));
      await conn.send(encodePlan(ctx, echoPlan(variant, 2, body2, FCGI_KEEP_CONN)));
      const early = await conn.readResponse(2, ctx.timeouts.replyMs);
      // Then request 1's input ends; it must be served whatever became of request 2. (An application may
      // also have answered it already, having read CONTENT_LENGTH bytes: php-fpm does.)
      await conn.send(encodeStream(FCGI_STDIN, 1, new Uint8Array(0)));
      const first = await conn.readResponse(1, ctx.timeouts.replyMs);
      const second = early.ending === 'timeout' ? await readMore(conn, early, ctx.timeouts.replyMs) : early;
      judge(ctx, variant, claim, classify(second, endedBefore(first, second)), first, body1, second, body2);
    },
  });
}

const SLEEP_MS = 1000;

const duringHandler = defineScenario({
  id: 'multiplexing.second-request-during-handler',
  title: "handles a second request begun while the first one's handler runs, as FCGI_MPXS_CONNS says",
  group: 'multiplexing',
  requirements: ['FCGI-4.1-mpxs-conns', 'FCGI-5.5-cant-mpx-conn'],
  needs: { probe: true },
  timeoutMs: 15_000,
  async run(ctx) {
    const claim = await multiplexClaim(ctx);
    const conn = await ctx.connect();
    const sleepMs = ctx.timeouts.scale(SLEEP_MS);
    const wait = sleepMs + ctx.timeouts.replyMs * 2;
    // Request 1 is complete on the wire; its handler sleeps. Request 2 comes while it does.
    await conn.send(encodePlan(ctx, { requestId: 1, flags: FCGI_KEEP_CONN, params: probe.sleep(sleepMs) }));
    const t0 = performance.now();
    const firstRead = readTimed(conn, 1, wait, t0);
    await settle(ctx);
    const body2 = patternBytes(200, 0x5300);
    await conn.send(encodePlan(ctx, echoPlan('probe', 2, body2, FCGI_KEEP_CONN)));
    const [first, second] = await Promise.all([firstRead, readTimed(conn, 2, wait, t0)]);
    ctx.check.observe('request 1 (sleeping) ended at', `${first.atMs} ms`);
    if (first.obs.ending === 'end-request' && first.atMs < sleepMs / 2) {
      return ctx.skip(`request 1 ended after ${first.atMs} ms: its handler did not sleep ${sleepMs} ms (the probe's sleep action?)`);
    }
    ctx.check.observe('request 2 ended at', `${second.atMs} ms${second.obs.end ? ` (${protocolStatusName(second.obs.end.protocolStatus)})` : ''}`);
    // Request 1's body is the probe's "slept" page; only that it was served is judged.
    const firstEndedFirst = endedBefore(first.obs, second.obs);
    judge(ctx, 'framing', claim, classify(second.obs, firstEndedFirst), first.obs, new Uint8Array(0), second.obs, undefined);
    if (second.obs.ending === 'end-request' && second.obs.end?.protocolStatus === FCGI_REQUEST_COMPLETE) {
      // The body of request 2 is judged here, with the probe, whatever the order.
      const problem = variantProblem('probe', second.obs, body2);
      ctx.check.that(problem === undefined, firstEndedFirst ? 'FCGI-5.5-cant-mpx-conn' : 'FCGI-B-multiplexed-app', 'request 2 served with its own output', problem ?? '');
    }
  },
});

export const claimScenarios: readonly Scenario[] = [...variants.map(duringInput), duringHandler];
