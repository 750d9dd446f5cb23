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
 * an ablation that makes it pass names the requirement to look at first (an `info` finding), except that a pass
 * without its extra records proves them the cause (a finding at the level of the requirement they test).
 */
import fc from 'fast-check';
import { FCGI_PARAMS } from '../../spec/constants.ts';
import { requirements, type RequirementId } from '../../spec/requirements.ts';
import type { Finding } from '../../reports/model.ts';
import { verdictForLevel } from '../../harness/context.ts';
import { fuzzRequirements } from './model.ts';
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
  /** Should-level causes found by the diagnosis fail instead of warn. */
  readonly strict?: boolean;
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

/** The plainest plan: one Responder request, no body, flags 0, one write. */
export const baselinePlan: FuzzPlan = {
  connections: [
    {
      batches: [{ requests: [{ id: 1, role: 1, keepConn: false, params: [['PROBE_ACTION', 'echo-stdin']], stdin: '', data: '', abort: null, chunks: [], longLengths: false }], extras: [], order: [] }],
      delivery: { padding: [], paddingByte: 0, writes: [] },
    },
  ],
};

// Times in a run a failure that breaks nothing new is shrunk again.
const RESHRINKS = 3;

// What a found failure breaks beyond the baseline.
function significantOf(f: FoundFailure, baseline: ReadonlySet<RequirementId>): RequirementId[] {
  return [...new Set([...f.original.failing, ...f.outcome.failing])].filter((r) => !baseline.has(r)).sort();
}

// How many of `failing` a known failure also broke.
const overlap = (f: FoundFailure, failing: readonly RequirementId[]): number => failing.filter((r) => f.outcome.failing.includes(r) || f.original.failing.includes(r)).length;

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

  // ── the baseline: what the plainest request breaks ──
  // A target that breaks a requirement on every request (php-fpm leaves FCGI_STDOUT unterminated) would make every
  // case look like the same failure: what the plainest request breaks is set aside when comparing failures.
  // Three runs, for what breaks only sometimes (php-fpm's reserved bytes are whatever its buffer held).
  const baseline = new Set<RequirementId>();
  for (let i = 0; i < 3 && !halted(); i++) for (const r of (await run(baselinePlan))?.failing ?? []) baseline.add(r);
  let baselineFound = baseline.size === 0;
  let reshrinks = 0;

  // ── rounds of sampling ──
  // What to shrink a failing case towards: what is new; else, a few times in a run, what it breaks beyond the
  // baseline (two bugs can show the same symptom, and the diagnosis tells them apart); else nothing: a repeat,
  // counted on the known failure it resembles most, and the round goes on (a target that breaks something on
  // every request would otherwise end every round at its first case).
  const targetOf = (outcome: CaseOutcome): { readonly target: readonly RequirementId[]; readonly again: boolean } | undefined => {
    const significant = outcome.failing.filter((r) => !baseline.has(r));
    if (significant.length === 0) return baselineFound ? undefined : { target: outcome.failing, again: false };
    const covered = new Set(found.flatMap((f) => significantOf(f, baseline)));
    const fresh = significant.filter((r) => !covered.has(r));
    if (fresh.length > 0) return { target: fresh, again: false };
    return reshrinks < RESHRINKS ? { target: significant, again: true } : undefined;
  };
  while (cases < runs && performance.now() < deadline && !halted()) {
    const seed = roundSeed(options.seed, rounds, options.shard);
    rounds++;
    let failing: { plan: FuzzPlan; outcome: CaseOutcome; target: readonly RequirementId[]; again: boolean } | undefined;
    const want = Math.min(roundSize, runs - cases);
    // The index of the case in the round: fast-check's path to a case it has not shrunk.
    let index = -1;
    const details = await fc.check(
      fc.asyncProperty(options.arbitrary, async (plan) => {
        index++;
        // Past the budget the rest of the round is skipped cheaply (fast-check has no external stop).
        if (cases >= runs || performance.now() >= deadline || halted()) return true;
        const outcome = await run(plan);
        if (!outcome) return true;
        cases++;
        options.listener?.onCase?.(outcome, stats());
        if (outcome.failing.length === 0) return true;
        failures++;
        const aim = targetOf(outcome);
        if (aim === undefined) {
          const known = [...found].sort((a, b) => overlap(b, outcome.failing) - overlap(a, outcome.failing))[0];
          if (known) known.repeats++;
          // What the plainest request breaks is not worth a line each time.
          if (outcome.failing.some((r) => !baseline.has(r))) options.listener?.onFailure?.(seed, String(index), outcome, true);
          return true;
        }
        failing = { plan, outcome, ...aim };
        return false;
      }),
      { seed, numRuns: want, endOnFailure: true },
    );
    if (!details.failed || failing === undefined || halted()) continue;
    const path = details.counterexamplePath ?? String(index);
    if (failing.again) reshrinks++;
    options.listener?.onFailure?.(seed, path, failing.outcome, false);
    const f = await shrink(options, run, seed, path, failing.plan, failing.outcome, failing.target, (n) => (shrinkCases += n));
    if (failing.outcome.failing.every((r) => baseline.has(r))) baselineFound = true;
    const signature = (x: FoundFailure): string => `${x.outcome.failing.filter((r) => !baseline.has(r)).join()}|${x.causes.map((c) => c.requirement).sort().join()}`;
    const same = found.find((x) => signature(x) === signature(f));
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
  fresh: readonly RequirementId[],
  count: (n: number) => void,
): Promise<FoundFailure> {
  const target = related(fresh);
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
  /** Removing it removes records the application must handle: a pass without them proves them the cause. */
  readonly causal?: boolean;
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
    apply: (p) => mapRequests(p, (r) => ({ ...r, chunks: [], cycleChunks: false })),
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
    causal: true,
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

/** Every finding of a diagnosis starts with this: it comes from re-running a plan, which a replay does not do. */
export const DIAGNOSIS_PREFIX = 'diagnosis: ';

/** Whether a finding came from the diagnosis (an ablation) rather than from judging the case itself. */
export function isDiagnosis(f: Finding): boolean {
  return f.expected.startsWith(DIAGNOSIS_PREFIX);
}

// Requirements judged by when the target's output came relative to the end of the input: removing records moves
// that end, so an ablation that cures only these proves nothing about the records removed.
const timingRequirements: ReadonlySet<string> = new Set([fuzzRequirements.paramsBeforeOutput, fuzzRequirements.stdinBeforeOutput, fuzzRequirements.filterOrUnknownRole]);

/** Whether a requirement is judged by when output came relative to the end of the input (a race a replay may lose). */
export function isTimingRequirement(id: string): boolean {
  return timingRequirements.has(id);
}

async function diagnose(
  options: CampaignOptions,
  run: (plan: FuzzPlan) => Promise<CaseOutcome | undefined>,
  plan: FuzzPlan,
  outcome: CaseOutcome,
  target: ReadonlySet<string>,
  count: (n: number) => void,
): Promise<Finding[]> {
  const causes: Finding[] = [];
  const fails = async (p: FuzzPlan): Promise<boolean | undefined> => {
    const o = await run(p);
    count(1);
    return o === undefined ? undefined : o.failing.some((r) => target.has(r));
  };
  const records = wireRecordCount(outcome.wire);
  let steady: boolean | undefined;
  for (const a of ablations) {
    if (!a.applies(plan, outcome.wire) || options.signal?.aborted) continue;
    if ((await fails(a.apply(plan))) !== false) continue;
    const requirement = a.cause(plan, outcome.wire);
    // Removing records the target had to take in its stride is an experiment on content: when that cures it, those
    // records are the cause, and the requirement they test is broken, provided the failure is steady (it happens
    // again with them and not again without them) and is not one of timing. Removing padding or cuts also changes
    // timing and sizes, so it points at a cause (info) without proving it.
    let proof = a.causal === true && [...target].some((r) => !timingRequirements.has(r));
    if (proof) {
      steady ??= (await fails(plan)) === true;
      proof = steady && (await fails(a.apply(plan))) === false;
    }
    const level = proof ? ((requirements as Record<string, { level: 'must' | 'should' | 'may' | 'info' } | undefined>)[requirement]?.level ?? 'must') : 'info';
    causes.push({
      requirement,
      verdict: verdictForLevel(level, options.strict ?? false),
      expected: proof
        ? `${DIAGNOSIS_PREFIX}the requests served alike with and without ${a.what}, which the application must take in its stride`
        : `${DIAGNOSIS_PREFIX}the shrunk plan (${records} records) fails only with ${a.what}`,
      actual: proof ? `the shrunk plan (${records} records) fails, again; without ${a.what} it passes, twice` : `without ${a.what} it passes: look here first`,
    });
  }
  return causes;
}
