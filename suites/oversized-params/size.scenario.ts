/**
 * Params far larger than one record: the protocol sets no bound (a stream has any number of records, a length
 * is 31 bits), so an application either accepts them whole or refuses cleanly (FCGI_END_REQUEST with an error
 * status, an error page, or a close before any output). A crash, a hang, partial output or a silently cut
 * value is not clean. The largest size accepted is recorded. @see §3.3 "Stream records", §3.4, §5.2
 */
import { defineScenario, type Check, type ResponseObservation, type Scenario, type ScenarioContext } from '../define.ts';
import {
  asciiBytes,
  cgiOf,
  cleanOutcomes,
  describeOutcome,
  echoProblem,
  probeAnswerProblem,
  encodePlan,
  exchange,
  expectCleanOutcome,
  formatSize,
  outcomeOf,
  paramsOf,
  probe,
  type ResponseOutcome,
  type Variant,
  variantId,
  variantNeeds,
  variants,
} from '../kit.ts';

const BIG_NAME = 'FCGISPEC_BIG';
const KiB = 1024;
const MiB = 1024 * 1024;

/** accepted: served; refused: a clean refusal; anything else has been recorded as a violation. */
type Verdict = 'accepted' | 'refused' | 'unclean';

/** Judges one oversized request: clean outcome, and with the probe, an accepted value must be whole. */
function judge(check: Check, obs: ResponseObservation, expected: (o: ResponseObservation) => string | undefined, what: string, withProbe: boolean): Verdict {
  // §5.2 sets no size limit; refusing is the application's right, but only cleanly.
  const outcome: ResponseOutcome = expectCleanOutcome(check, obs, 'FCGI-5.2-large-params-app', what);
  if (!cleanOutcomes.includes(outcome)) return 'unclean';
  if (outcome !== 'complete') return 'refused';
  const status = cgiOf(obs)?.status;
  if (!withProbe) return 'accepted';
  if (status !== undefined && status !== 200) return 'refused'; // an error page: refused by the application proper
  const problem = expected(obs);
  // A value cut short and answered with 200 is the one outcome that hides the refusal from the web server.
  check.that(problem === undefined, 'FCGI-5.2-large-params-app', `${what}: if served, the value whole`, problem ?? '');
  return problem === undefined ? 'accepted' : 'unclean';
}

/** The observation text of a verdict: accepted (how verified), or how the target refused. */
function verdictText(verdict: Verdict, obs: ResponseObservation, withProbe: boolean): string {
  if (verdict === 'accepted') return withProbe ? 'accepted (probe-verified)' : 'accepted (served)';
  const status = cgiOf(obs)?.status;
  const how = outcomeOf(obs) === 'complete' && status !== undefined ? `CGI status ${status}` : describeOutcome(outcomeOf(obs), obs);
  return `${verdict}: ${how}`;
}

/** Sends one request whose params hold a value of `size` bytes; returns the verdict. */
async function oneValue(ctx: ScenarioContext, size: number, withProbe: boolean): Promise<Verdict> {
  const value = asciiBytes(size, `big-${size}:`);
  const params = [...(withProbe ? probe.echoParam(BIG_NAME) : []), [BIG_NAME, value] as const];
  const bytes = encodePlan(ctx, { requestId: 1, params });
  const { conn, obs } = await exchange(ctx, bytes, { timeoutMs: ctx.timeouts.scale(5000 + size / (64 * KiB) * 50) });
  conn.close();
  const verdict = judge(ctx.check, obs, (o) => echoProblem(o, value), `a ${formatSize(size)} param value`, withProbe);
  ctx.check.observe(`params ${formatSize(size)} (one value)`, verdictText(verdict, obs, withProbe));
  return verdict;
}

function bySize(size: number, label: string, variant: Variant): Scenario {
  return defineScenario({
    id: variantId(`oversized-params.${label}`, variant),
    title: `accepts a ${formatSize(size)} param value whole, or refuses it cleanly${variant === 'probe' ? ' (probe echo compared)' : ''}`,
    group: 'oversized-params',
    requirements: ['FCGI-5.2-large-params-app'],
    needs: variantNeeds(variant),
    hostile: true,
    timeoutMs: 20_000 + size / MiB * 4000,
    async run(ctx) {
      await oneValue(ctx, size, variant === 'probe');
    },
  });
}

const manyPairs = defineScenario({
  id: 'oversized-params.many-pairs-1mib',
  title: 'accepts 1 MiB of params in 16384 small pairs, or refuses them cleanly',
  group: 'oversized-params',
  requirements: ['FCGI-5.2-large-params-app'],
  hostile: true,
  timeoutMs: 30_000,
  async run(ctx) {
    const withProbe = ctx.profile.probe;
    // 16384 pairs of 64 bytes (1-byte lengths, 25-byte name, 37-byte value) make 1 MiB of stream.
    const fill = Array.from({ length: 16384 }, (_, i) => [`FCGISPEC_MANY_${String(i).padStart(10, '0')}`, asciiBytes(37, `${i}:`)] as const);
    const bytes = encodePlan(ctx, { requestId: 1, params: [...(withProbe ? probe.echoParams('FCGISPEC_MANY_') : []), ...fill] });
    const sent = paramsOf(bytes);
    const { obs } = await exchange(ctx, bytes, { timeoutMs: ctx.timeouts.scale(10_000) });
    const verdict = judge(ctx.check, obs, (o) => probeAnswerProblem(o, bytes), `${sent.length} params (1 MiB of pairs)`, withProbe);
    ctx.check.observe('params 1 MiB (16384 pairs)', verdictText(verdict, obs, withProbe));
  },
});

const ladder = defineScenario({
  id: 'oversized-params.largest-accepted',
  title: 'records the largest param value accepted: 64 KiB, 256 KiB, 1 MiB, 4 MiB, 16 MiB until the first refusal',
  group: 'oversized-params',
  requirements: ['FCGI-5.2-large-params-app'],
  hostile: true,
  timeoutMs: 120_000,
  async run(ctx) {
    const withProbe = ctx.profile.probe;
    let largest = 0;
    for (const size of [64 * KiB, 256 * KiB, MiB, 4 * MiB, 16 * MiB]) {
      if (ctx.signal.aborted) break;
      const verdict = await oneValue(ctx, size, withProbe);
      if (verdict !== 'accepted') break;
      largest = size;
    }
    ctx.check.observe('largest-params-accepted', largest === 0 ? 'none of 64 KiB or more' : `${formatSize(largest)}${withProbe ? ' (probe-verified)' : ''}`);
  },
});

const sizes: readonly (readonly [number, string])[] = [
  [64 * KiB, '64kib'],
  [MiB, '1mib'],
  [16 * MiB, '16mib'],
];

export const sizeScenarios: readonly Scenario[] = [
  ...sizes.flatMap(([size, label]) => variants.map((v) => bySize(size, label, v))),
  manyPairs,
  ladder,
];

