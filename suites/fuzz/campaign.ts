/**
 * A fuzzing campaign with fast-check: cases are drawn in rounds (one `fc.check` per round, seed derived from
 * the run's seed, the round and the shard), each round stops at its first failure, which is then shrunk by
 * replaying fast-check's counterexample path, and the run goes on with the next round until the cases or the
 * time are used up. So one run can report several distinct failures, each with the `seed` and `path` that
 * reproduce it, and `--shard K/N` jobs draw disjoint rounds (K, K+N, K+2N, …) of one seed space.
 *
 * Shrinking keeps to the failure found: a smaller plan counts as failing only when it breaks one of the same
 * requirements, so a shrink cannot wander off to another bug. A shrunk failure is then diagnosed: the same plan
 * without its padding, its cuts into writes, its cuts into records, its extra records, or its four-byte lengths;
 * an ablation that makes it pass is reported as an `info` finding naming the requirement to look at first.
 */
import fc from 'fast-check';
import { FCGI_PARAMS } from '../../spec/constants.ts';
import type { RequirementId } from '../../spec/requirements.ts';
import type { Finding } from '../../reports/model.ts';
import type { Execution } from './execute.ts';
import type { FuzzPlan, WirePlan } from './plan.ts';
import { wireRecordCount } from './plan.ts';

/** What one case came to. */
export interface CaseOutcome {
  readonly findings: readonly Finding[];
  readonly observations: Readonly<Record<string, string | number | boolean>>;
  /** Requirements at fail, warn or error level: the case fails when there is any. */
  readonly failing: readonly RequirementId[];
  readonly wire: WirePlan;
  readonly execution: Execution;
  readonly durationMs: number;
}

/** A shard of the seed space: `index` of `count`, from 1. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** A failure found, shrunk and diagnosed. */
export interface FoundFailure {
  /** The seed of the round that found it, and fast-check's path to the (shrunk) case: `--seed` and `--path`. */
  readonly seed: number;
  readonly path: string;
  readonly plan: FuzzPlan;
  /** The case as last run (the shrunk one when it reproduced). */
  readonly outcome: CaseOutcome;
  /** The case as first found. */
  readonly original: CaseOutcome;
  /** False when the failure did not happen again when replayed (timing-dependent). */
  readonly reproduced: boolean;
  /** Cases run while shrinking. */
  readonly shrinkCases: number;
  /** Later failures that broke no requirement it did not (not shrunk again). */
  repeats: number;
  /** What the diagnosis found: findings naming the cause. */
  readonly causes: readonly Finding[];
}

export interface CampaignStats {
  readonly cases: number;
  readonly failures: number;
  readonly shrinkCases: number;
  readonly rounds: number;
  readonly elapsedMs: number;
}

export interface CampaignListener {
  onCase?(outcome: CaseOutcome, stats: CampaignStats): void;
  /** A failing case was found; shrinking starts (unless it repeats a known one). */
  onFailure?(seed: number, path: string, outcome: CaseOutcome, repeat: boolean): void;
  onFound?(found: FoundFailure): void;
}

export interface CampaignOptions {
  readonly arbitrary: fc.Arbitrary<FuzzPlan>;
  /** Runs one case; must not reject (a rejection ends the campaign with an error). */
  readonly runCase: (plan: FuzzPlan) => Promise<CaseOutcome>;
  readonly seed: number;
  /** Replay exactly this case of `seed` (fast-check's counterexample path): no sampling, no shrinking. */
  readonly path?: string;
  /** Cases to draw (default 100 when no `timeMs`). */
  readonly runs?: number;
  /** Time to draw cases for, ms; shrinking a failure found in time may run past it. */
  readonly timeMs?: number;
  readonly shard?: Shard;
  /** Time for shrinking each failure, ms. */
  readonly shrinkMs: number;
  /** Cases per round (default 100). */
  readonly roundSize?: number;
  /** Distinct failures after which the campaign stops (default 8). */
  readonly maxFindings?: number;
  /** Run the ablations on each shrunk failure (default true). */
  readonly diagnose?: boolean;
  readonly listener?: CampaignListener;
  readonly signal?: AbortSignal;
}

export interface CampaignResult {
  readonly stats: CampaignStats;
  readonly found: readonly FoundFailure[];
  /** Why the campaign stopped early, if it did. */
  readonly stopped?: string;
  /** A harness error that ended the campaign. */
  readonly error?: string;
}

/** The seed of round `round` (0-based, within the shard) of a run seeded `seed`: disjoint across shards. */
export function roundSeed(seed: number, round: number, shard: Shard = { index: 1, count: 1 }): number {
  const global = round * shard.count + (shard.index - 1);
  return (((seed >>> 0) + global) % 0x80000000) >>> 0;
}

/** Parses `K/N` (1 ≤ K ≤ N). */
export function parseShard(text: string): Shard | undefined {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (!m) return undefined;
  const index = Number(m[1]);
  const count = Number(m[2]);
  return Number.isSafeInteger(index) && Number.isSafeInteger(count) && count >= 1 && index >= 1 && index <= count ? { index, count } : undefined;
}

const subset = (a: readonly string[], b: ReadonlySet<string>): boolean => a.every((x) => b.has(x));

// Requirements that name one symptom in different situations: a request left unanswered is cited as an abort
// not ended when the plan aborted it. A shrink that drops the abort still shows the same failure.
const symptomGroups: readonly (readonly RequirementId[])[] = [['FCGI-5.5-end-request-once', 'FCGI-5.4-abort-ends-request']];

/** The requirements a shrunk case may fail and still count as the same failure. */
export function related(failing: readonly RequirementId[]): Set<string> {
  const out = new Set<string>(failing);
  for (const group of symptomGroups) if (group.some((r) => out.has(r))) for (const r of group) out.add(r);
  return out;
}

/** Runs a campaign. Never rejects: a harness error is returned in `error`. */
export async function runCampaign(options: CampaignOptions): Promise<CampaignResult> {
  const t0 = performance.now();
  const roundSize = Math.max(1, options.roundSize ?? 100);
  const runs = options.runs ?? (options.timeMs === undefined ? 100 : Number.POSITIVE_INFINITY);
  const deadline = options.timeMs === undefined ? Number.POSITIVE_INFINITY : t0 + options.timeMs;
  const maxFindings = Math.max(1, options.maxFindings ?? 8);
  const found: FoundFailure[] = [];
  let cases = 0;
  let failures = 0;
  let shrinkCases = 0;
  let rounds = 0;
  let error: string | undefined;
  let stopped: string | undefined;

  const stats = (): CampaignStats => ({ cases, failures, shrinkCases, rounds, elapsedMs: Math.round(performance.now() - t0) });
  const halted = (): boolean => error !== undefined || options.signal?.aborted === true;
  const run = async (plan: FuzzPlan): Promise<CaseOutcome | undefined> => {
    try {
      return await options.runCase(plan);
    } catch (err) {
      error ??= err instanceof Error ? err.message : String(err);
      return undefined;
    }
  };

  // ── a single case, replayed by path ──
  if (options.path !== undefined) {
    let last: { plan: FuzzPlan; outcome: CaseOutcome } | undefined;
    const details = await fc.check(
      fc.asyncProperty(options.arbitrary, async (plan) => {
        const outcome = await run(plan);
        if (!outcome) return true;
        cases++;
        last = { plan, outcome };
        options.listener?.onCase?.(outcome, stats());
        return outcome.failing.length === 0;
      }),
      { seed: options.seed, path: options.path, endOnFailure: true, numRuns: 1 },
    );
    rounds = 1;
    if (details.failed && last) {
      failures = 1;
      const f: FoundFailure = { seed: options.seed, path: options.path, plan: last.plan, outcome: last.outcome, original: last.outcome, reproduced: true, shrinkCases: 0, repeats: 0, causes: [] };
      found.push(f);
      options.listener?.onFound?.(f);
    }
    return { stats: stats(), found, ...(error === undefined ? {} : { error }) };
  }

  // ── rounds of sampling ──
  while (cases < runs && performance.now() < deadline && !halted()) {
    const seed = roundSeed(options.seed, rounds, options.shard);
    rounds++;
    let failing: { plan: FuzzPlan; outcome: CaseOutcome } | undefined;
    const want = Math.min(roundSize, runs - cases);
    const details = await fc.check(
      fc.asyncProperty(options.arbitrary, async (plan) => {
        // Past the budget the rest of the round is skipped cheaply (fast-check has no external stop).
        if (cases >= runs || performance.now() >= deadline || halted()) return true;
        const outcome = await run(plan);
        if (!outcome) return true;
        cases++;
        options.listener?.onCase?.(outcome, stats());
        if (outcome.failing.length === 0) return true;
        failing = { plan, outcome };
        return false;
      }),
      { seed, numRuns: want, endOnFailure: true },
    );
    if (!details.failed || failing === undefined || halted()) continue;
    failures++;
    const path = details.counterexamplePath ?? '0';
    const signature = failing.outcome.failing;
    const known = found.find((f) => subset(signature, new Set([...f.original.failing, ...f.outcome.failing])));
    options.listener?.onFailure?.(seed, path, failing.outcome, known !== undefined);
    if (known) {
      known.repeats++;
      continue;
    }
    const f = await shrink(options, run, seed, path, failing.plan, failing.outcome, (n) => (shrinkCases += n));
    const same = found.find((x) => x.outcome.failing.join() === f.outcome.failing.join());
    if (same) {
      same.repeats++;
      continue;
    }
    found.push(f);
    options.listener?.onFound?.(f);
    if (found.length >= maxFindings) {
      stopped = `${found.length} distinct failures found`;
      break;
    }
  }
  if (options.signal?.aborted) stopped = 'interrupted';
  return { stats: stats(), found, ...(stopped === undefined ? {} : { stopped }), ...(error === undefined ? {} : { error }) };
}

async function shrink(
  options: CampaignOptions,
  run: (plan: FuzzPlan) => Promise<CaseOutcome | undefined>,
  seed: number,
  path: string,
  plan: FuzzPlan,
  outcome: CaseOutcome,
  count: (n: number) => void,
): Promise<FoundFailure> {
  const target = related(outcome.failing);
  const until = performance.now() + options.shrinkMs;
  let best = { plan, outcome };
  let runs = 0;
  const details = await fc.check(
    fc.asyncProperty(options.arbitrary, async (candidate) => {
      // Out of time: every further candidate "passes" at once, and fast-check settles on the best so far.
      if (performance.now() >= until || options.signal?.aborted) return true;
      const o = await run(candidate);
      runs++;
      if (!o) return true;
      if (!o.failing.some((r) => target.has(r))) return true;
      best = { plan: candidate, outcome: o };
      return false;
    }),
    { seed, path },
  );
  count(runs);
  const reproduced = details.failed;
  const shrunkPath = details.failed ? (details.counterexamplePath ?? path) : path;
  const causes = reproduced && options.diagnose !== false ? await diagnose(options, run, best.plan, best.outcome, target, count) : [];
  return { seed, path: shrunkPath, plan: best.plan, outcome: reproduced ? best.outcome : outcome, original: outcome, reproduced, shrinkCases: runs, repeats: 0, causes };
}

/** A change to a plan that removes one ingredient, and the requirement its absence points at. */
interface Ablation {
  readonly what: string;
  readonly applies: (plan: FuzzPlan, wire: WirePlan) => boolean;
  readonly apply: (plan: FuzzPlan) => FuzzPlan;
  readonly cause: (plan: FuzzPlan, wire: WirePlan) => RequirementId;
}

const mapRequests = (plan: FuzzPlan, f: (r: FuzzPlan['connections'][number]['batches'][number]['requests'][number]) => typeof r): FuzzPlan => ({
  connections: plan.connections.map((c) => ({ ...c, batches: c.batches.map((b) => ({ ...b, requests: b.requests.map(f) })) })),
});

/** The ablations a shrunk failure is tried without. */
export const ablations: readonly Ablation[] = [
  {
    what: 'its padding',
    applies: (p) => p.connections.some((c) => c.delivery.padding.some((x) => x !== 0)),
    apply: (p) => ({ connections: p.connections.map((c) => ({ ...c, delivery: { ...c.delivery, padding: [] } })) }),
    // php-fpm, for one, refuses content + padding over 65535 bytes: that is the length limit, not padding itself.
    cause: (_p, wire) =>
      wire.connections.some((c) => c.batches.some((b) => b.records.some((r) => r.content.length + r.paddingLength > 0xffff))) ? 'FCGI-3.3-max-lengths-app' : 'FCGI-3.3-padding-discarded',
  },
  {
    what: 'its cuts into writes',
    applies: (p) => p.connections.some((c) => c.delivery.writes.length > 0),
    apply: (p) => ({ connections: p.connections.map((c) => ({ ...c, delivery: { ...c.delivery, writes: [] } })) }),
    cause: () => 'FCGI-3.3-any-segmentation-app',
  },
  {
    what: 'its cuts of streams into records',
    applies: (p) => p.connections.some((c) => c.batches.some((b) => b.requests.some((r) => r.chunks.length > 0))),
    apply: (p) => mapRequests(p, (r) => ({ ...r, chunks: [] })),
    cause: (_p, wire) =>
      wire.connections.some((c) => c.batches.some((b) => b.records.filter((r) => r.type === FCGI_PARAMS && r.content.length > 0).length > b.requests.length)) ? 'FCGI-B-split-params-app' : 'FCGI-3.3-stream-value-app',
  },
  {
    what: 'its four-byte lengths',
    applies: (p) => p.connections.some((c) => c.batches.some((b) => b.requests.some((r) => r.longLengths))),
    apply: (p) => mapRequests(p, (r) => ({ ...r, longLengths: false })),
    cause: () => 'FCGI-3.4-length-forms-accepted',
  },
  {
    what: 'its extra records',
    applies: (p) => p.connections.some((c) => c.batches.some((b) => b.extras.length > 0)),
    apply: (p) => ({ connections: p.connections.map((c) => ({ ...c, batches: c.batches.map((b) => ({ ...b, extras: [] })) })) }),
    cause: (p) => {
      const kinds = new Set(p.connections.flatMap((c) => c.batches.flatMap((b) => b.extras.map((x) => x.kind))));
      if (kinds.has('get-values')) return 'FCGI-4.1-get-values-any-time';
      if (kinds.has('management')) return 'FCGI-4.2-unknown-type-reply';
      if (kinds.has('inactive')) return 'FCGI-3.3-inactive-id-ignored';
      return 'FCGI-X-unknown-app-type-app';
    },
  },
];

async function diagnose(
  options: CampaignOptions,
  run: (plan: FuzzPlan) => Promise<CaseOutcome | undefined>,
  plan: FuzzPlan,
  outcome: CaseOutcome,
  target: ReadonlySet<string>,
  count: (n: number) => void,
): Promise<Finding[]> {
  const causes: Finding[] = [];
  for (const a of ablations) {
    if (!a.applies(plan, outcome.wire) || options.signal?.aborted) continue;
    const o = await run(a.apply(plan));
    count(1);
    if (!o || o.failing.some((r) => target.has(r))) continue;
    // A hint, not a verdict: removing an ingredient also changes timing, so it points at a cause without proving it.
    causes.push({
      requirement: a.cause(plan, outcome.wire),
      verdict: 'info',
      expected: `diagnosis: the shrunk plan (${wireRecordCount(outcome.wire)} records) fails only with ${a.what}`,
      actual: `without ${a.what} it passes: look here first`,
    });
  }
  return causes;
}
