/**
 * FCGI_PARAMS as a stream of name-value pairs: none, one, ten thousand, in any order, with a name twice or an
 * empty value. @see §5.2 "name-value pairs are sent down the stream one after the other, in no specified order"
 */
import { FCGI_KEEP_CONN } from '../../spec/constants.ts';
import { paramsToPairs, toText } from '../../reference/codec/name-value.ts';
import { defineScenario, type Scenario } from '../define.ts';
import {
  cgiOf,
  describeObservation,
  describeOutcome,
  expectProbeAnswer,
  encodePlan,
  exchange,
  expectProbeBody,
  expectServedLikePlain,
  outcomeOf,
  paramsOf,
  plainStatus,
  preview,
  probe,
  sendAndRead,
  utf8,
  variantId,
  variantNeeds,
  variantTitle,
  variants,
  withBaseParams,
  type Variant,
} from '../kit.ts';

const empty = defineScenario({
  id: 'params.empty',
  title: 'records what the application does with a request whose PARAMS stream holds no pair',
  group: 'params',
  requirements: ['FCGI-X-empty-params'],
  hostile: true,
  async run(ctx) {
    const keep = ctx.profile.keepConn;
    const conn = await ctx.connect();
    // §3.3: a stream is "zero or more non-empty records … followed by an empty record": zero pairs is a valid
    // PARAMS stream. What a request without a single CGI variable yields is up to the application.
    const { obs } = await sendAndRead(conn, { requestId: 1, flags: keep ? FCGI_KEEP_CONN : 0, baseParams: false });
    const outcome = outcomeOf(obs);
    ctx.check.observe('request with no params', `${describeOutcome(outcome, obs)}${cgiOf(obs) ? `, CGI status ${cgiOf(obs)!.status}` : ''}`);
    ctx.check.that(obs.ending === 'end-request', 'FCGI-X-empty-params', 'FCGI_END_REQUEST (any appStatus, any page)', describeObservation(obs));
    if (!keep || obs.ending !== 'end-request') return;
    const next = await sendAndRead(conn, { requestId: 1, flags: FCGI_KEEP_CONN });
    ctx.check.observe('connection after it', describeOutcome(outcomeOf(next.obs), next.obs));
  },
});

const one = defineScenario({
  id: 'params.one',
  title: 'reads a PARAMS stream of exactly one pair',
  group: 'params',
  requirements: ['FCGI-3.4-pair-layout'],
  needs: { probe: true },
  async run(ctx) {
    // A target that needs params of its own (--param, e.g. php-fpm's SCRIPT_FILENAME) cannot serve a stream of one pair.
    const base = Object.keys(ctx.baseParams);
    if (base.length > 0) ctx.skip(`the target needs base params (${base.join(', ')}): a PARAMS stream of one pair cannot carry them`);
    const bytes = encodePlan(ctx, { requestId: 1, baseParams: false, params: probe.echoParams() });
    if (paramsOf(bytes).length !== 1) throw new Error('scenario bug: not one pair');
    const { obs } = await exchange(ctx, bytes);
    // §3.4: "FastCGI transmits a name-value pair as the length of the name, followed by the length of the value,
    // followed by the name, followed by the value." The probe lists it back: "PROBE_ACTION=echo-params\n".
    expectProbeAnswer(ctx.check, obs, bytes, 'FCGI-3.4-pair-layout', 'a PARAMS stream of the one pair PROBE_ACTION=echo-params');
  },
});

const PAIRS = 10_000;

function tenThousand(variant: Variant): Scenario {
  return defineScenario({
    id: variantId('params.ten-thousand-pairs', variant),
    title: variantTitle(`reads a PARAMS stream of ${PAIRS} pairs`, variant),
    group: 'params',
    requirements: ['FCGI-5.2-large-params-app', 'FCGI-3.3-stream-value-app'],
    needs: variantNeeds(variant),
    timeoutMs: 20_000,
    async run(ctx) {
      const control = variant === 'probe' ? probe.echoParams('FCGISPEC_P') : [];
      const fixed = withBaseParams(ctx, control).length;
      // Ten thousand pairs in all, the base and control params included.
      const fill: [string, string][] = Array.from({ length: PAIRS - fixed }, (_, i) => [`FCGISPEC_P${String(i).padStart(5, '0')}`, `value ${i}`]);
      const bytes = encodePlan(ctx, { requestId: 1, params: [...control, ...fill] });
      const sent = paramsOf(bytes);
      const plain = variant === 'framing' ? await plainStatus(ctx) : undefined;
      const { obs } = await exchange(ctx, bytes, { timeoutMs: ctx.timeouts.scale(5000) });
      // §5.2 gives no bound on the number of pairs; the PARAMS stream spans several records (§3.3).
      if (variant === 'probe') {
        expectProbeAnswer(ctx.check, obs, bytes, 'FCGI-5.2-large-params-app', `${sent.length} params, the ${fill.length} FCGISPEC_P… ones listed back`);
      } else {
        expectServedLikePlain(ctx.check, obs, plain, 'FCGI-5.2-large-params-app', `a request with ${sent.length} params`);
      }
    },
  });
}

/** Fisher–Yates with the scenario's seeded source. */
function shuffle<T>(items: readonly T[], randomInt: (min: number, max: number) => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(0, i);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const cgiVariables: readonly [string, string][] = [
  ['GATEWAY_INTERFACE', 'CGI/1.1'],
  ['SERVER_SOFTWARE', 'fcgispec'],
  ['SERVER_NAME', 'localhost'],
  ['SERVER_PORT', '80'],
  ['SERVER_ADDR', '127.0.0.1'],
  ['SERVER_PROTOCOL', 'HTTP/1.1'],
  ['REMOTE_ADDR', '127.0.0.1'],
  ['REMOTE_PORT', '54321'],
  ['REQUEST_METHOD', 'GET'],
  ['REQUEST_URI', '/shuffled?a=1'],
  ['QUERY_STRING', 'a=1'],
  ['HTTP_HOST', 'localhost'],
  ['HTTP_ACCEPT', '*/*'],
  ['HTTP_USER_AGENT', 'fcgispec'],
];

function shuffled(variant: Variant): Scenario {
  return defineScenario({
    id: variantId('params.shuffled-order', variant),
    title: variantTitle('reads the params in any order (three seeded shuffles)', variant),
    group: 'params',
    requirements: ['FCGI-5.2-params-any-order'],
    needs: variantNeeds(variant),
    async run(ctx) {
      const control = variant === 'probe' ? probe.echoParams('FCGISPEC_SHUF_') : [];
      const plain = variant === 'framing' ? await plainStatus(ctx) : undefined;
      // The CGI variables a web server sends (the target's base params win where they overlap), and ten of our
      // own that the probe lists back.
      const base = new Set(Object.keys(ctx.baseParams));
      const own = [
        ...cgiVariables.filter(([n]) => !base.has(n)),
        ...Array.from({ length: 10 }, (_, i) => [`FCGISPEC_SHUF_${i}`, `shuffled ${i}`] as [string, string]),
      ];
      for (let round = 1; round <= 3; round++) {
        const pairs = shuffle([...withBaseParams(ctx, control), ...paramsToPairs(own)], (a, b) => ctx.randomInt(a, b));
        const bytes = encodePlan(ctx, { requestId: 1, baseParams: false, params: pairs.map((p) => [p.name, p.value] as const) });
        const { conn, obs } = await exchange(ctx, bytes);
        conn.close();
        const order = pairs.map((p) => toText(p.name)).join(' ');
        // §5.2: "The name-value pairs are sent down the stream one after the other, in no specified order."
        if (variant === 'probe') {
          expectProbeAnswer(ctx.check, obs, bytes, 'FCGI-5.2-params-any-order', `params in the order ${order}, FCGISPEC_SHUF_… listed back`);
        } else {
          expectServedLikePlain(ctx.check, obs, plain, 'FCGI-5.2-params-any-order', `params in the order ${order}`);
        }
      }
    },
  });
}

const duplicateName = defineScenario({
  id: 'params.duplicate-name',
  title: 'records which value the application exposes when a name comes twice',
  group: 'params',
  requirements: ['FCGI-X-duplicate-params'],
  needs: { probe: true },
  async run(ctx) {
    const { obs } = await exchange(ctx, {
      requestId: 1,
      params: [...probe.echoParam('FCGISPEC_DUP'), ['FCGISPEC_DUP', 'first'], ['FCGISPEC_DUP', 'second']],
    });
    // §5.2 says nothing of a name sent twice; which value wins is recorded.
    const cgi = cgiOf(obs);
    const body = cgi && outcomeOf(obs) === 'complete' ? toText(cgi.body) : undefined;
    const seen =
      body === undefined ? describeOutcome(outcomeOf(obs), obs) : body === 'first' || body === 'second' ? body : `"${preview(utf8(body), 40)}"`;
    ctx.check.observe('duplicate name: value exposed', seen);
    ctx.check.that(body === 'first' || body === 'second', 'FCGI-X-duplicate-params', 'the first or the second value', seen);
  },
});

const emptyValue = defineScenario({
  id: 'params.empty-value',
  title: 'reads a pair whose value is empty',
  group: 'params',
  requirements: ['FCGI-3.4-length-forms-accepted'],
  needs: { probe: true },
  async run(ctx) {
    const { obs } = await exchange(ctx, { requestId: 1, params: [...probe.echoParam('FCGISPEC_EMPTY'), ['FCGISPEC_EMPTY', ''], ['FCGISPEC_AFTER', 'x']] });
    // §3.4: a valueLength of 0 is a one-byte length like any other; the pair after it must still be read.
    expectProbeBody(ctx.check, obs, new Uint8Array(0), 'FCGI-3.4-length-forms-accepted', 'the empty value of FCGISPEC_EMPTY');
  },
});

export const pairScenarios: readonly Scenario[] = [
  empty,
  one,
  ...variants.map(tenThousand),
  ...variants.map(shuffled),
  duplicateName,
  emptyValue,
];

